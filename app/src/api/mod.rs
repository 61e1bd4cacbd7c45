//! Server functions, one module per area. Every one but [`session::login`] needs a session;
//! the server's auth layer enforces that before any of them runs.

pub mod activity;
pub mod buckets;
pub mod cancel;
pub mod containers;
pub mod create;
pub mod health;
pub mod nodes;
pub mod resources;
pub mod session;
pub mod status;
pub mod templates;
pub mod updates;
pub mod users;
