//! Server-side support for the server functions: shared state, the signed-in user, and the
//! mapping of backend errors to [`AppError`](crate::error::AppError).

pub mod context;
pub mod errors;
pub mod session;

pub use context::ServerContext;
pub use session::{
    CurrentUser, SESSION_COOKIE, current_user, request_client_address, require_admin,
    resolve_session,
};
