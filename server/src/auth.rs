//! The session layer: every API call but login needs a valid session cookie.
//!
//! A missing, unknown or expired session is 401. When the session cannot be checked because
//! the database is away, the answer is 503 with a retry message: an outage is not a logout, and
//! the browser keeps the user where they are.

use crate::PUBLIC_API_PATHS;
use app::error::AppError;
use app::ssr::{CurrentUser, SESSION_COOKIE, ServerContext, resolve_session};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;

/// What the session cookie of a request says about its user.
pub enum SessionCheck {
    SignedIn(CurrentUser),
    /// No cookie, or one that names no valid session.
    Anonymous,
    /// The session could not be checked (the database is away); the text says so.
    Unknown(String),
}

/// The signed-in user of a request, if its cookie names a valid session.
pub async fn check_session(ctx: &ServerContext, jar: &CookieJar) -> SessionCheck {
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return SessionCheck::Anonymous;
    };
    if token.is_empty() {
        return SessionCheck::Anonymous;
    }
    match resolve_session(ctx, &token).await {
        Ok(Some(user)) => SessionCheck::SignedIn(user),
        Ok(None) => SessionCheck::Anonymous,
        Err(AppError::Unavailable(message)) => SessionCheck::Unknown(message),
        Err(e) => {
            tracing::error!(error = %e, "could not check a session");
            SessionCheck::Unknown("The server cannot check your session right now.".into())
        }
    }
}

/// Lets a request through with its [`CurrentUser`] in the extensions, or answers 401 (no
/// session) or 503 (the session cannot be checked now).
pub async fn require_session(
    State(ctx): State<ServerContext>,
    jar: CookieJar,
    mut req: Request,
    next: Next,
) -> Response {
    if PUBLIC_API_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    match check_session(&ctx, &jar).await {
        SessionCheck::SignedIn(user) => {
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        SessionCheck::Anonymous => crate::refusal::unauthorized(),
        SessionCheck::Unknown(message) => crate::refusal::unavailable(&format!(
            "{message} Your session is kept; try again in a moment."
        )),
    }
}
