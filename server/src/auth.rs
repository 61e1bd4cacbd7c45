//! The session layer: every API call but login needs a valid session cookie.

use crate::PUBLIC_API_PATHS;
use app::ssr::{CurrentUser, SESSION_COOKIE, ServerContext, resolve_session};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use http::StatusCode;

/// The signed-in user of a request, if its cookie names a valid session.
pub async fn session_user(ctx: &ServerContext, jar: &CookieJar) -> Option<CurrentUser> {
    let token = jar.get(SESSION_COOKIE)?.value().to_owned();
    if token.is_empty() {
        return None;
    }
    match resolve_session(ctx, &token).await {
        Ok(user) => user,
        Err(e) => {
            tracing::warn!(error = %e, "could not check a session");
            None
        }
    }
}

/// Lets a request through with its [`CurrentUser`] in the extensions, or answers 401.
pub async fn require_session(
    State(ctx): State<ServerContext>,
    jar: CookieJar,
    mut req: Request,
    next: Next,
) -> Response {
    if PUBLIC_API_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    match session_user(&ctx, &jar).await {
        Some(user) => {
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        None => unauthorized(),
    }
}

/// The answer to an API call without a session; the body is the app's `Unauthorized` error.
pub fn unauthorized() -> Response {
    let body = serde_json::to_string(&app::error::AppError::Unauthorized).unwrap_or_default();
    (
        StatusCode::UNAUTHORIZED,
        [(http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
