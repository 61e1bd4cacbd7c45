//! Server functions, one module per area. Every one but [`session::login`] needs a session;
//! the server's auth layer enforces that before any of them runs.

pub mod nodes;
pub mod session;
