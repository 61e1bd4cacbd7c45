//! Every error answer of the API, built in one place: the status an [`AppError`] means and the
//! error envelope as JSON (see [`app::error`] for both). Server functions, the progress stream,
//! the session layer, the host check and the origin guard all answer through here.

use app::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// `error` as a response: its status, `Retry-After` where it applies, the envelope as body.
pub fn respond(error: &AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(error).unwrap_or_default();
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(secs) = error.retry_after_secs() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    response
}

/// 401: the request needs a session.
pub fn unauthorized() -> Response {
    respond(&AppError::Unauthorized)
}

/// 503: a dependency the request needs is away; the browser keeps the user where they are.
pub fn unavailable(message: &str) -> Response {
    respond(&AppError::Unavailable(message.to_owned()))
}

/// 403: a state-changing request sent by a page of another site.
pub fn cross_origin() -> Response {
    respond(&AppError::Forbidden("Cross-origin request refused.".into()))
}

/// 400: the `Host` header names another site than this server.
pub fn unknown_host() -> Response {
    respond(&AppError::BadRequest(
        "This server does not answer to that host name (the Host header; see \
         INFRAHAUS_PUBLIC_URL)."
            .into(),
    ))
}

/// The largest error body a server function writes (field messages of a big form).
const MAX_ERROR_BODY: usize = 256 * 1024;

/// Gives a server function's error answer the status its error means: server_fn sends every
/// error as 500 with the `serverfnerror` header.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if !response.headers().contains_key("serverfnerror") {
        return response;
    }
    let (parts, body) = response.into_parts();
    let error = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => serde_json::from_slice::<AppError>(&bytes).unwrap_or_else(|e| {
            tracing::error!(error = %e, "a server function wrote an unreadable error");
            AppError::Internal
        }),
        Err(e) => {
            tracing::error!(error = %e, "could not read a server function's error");
            AppError::Internal
        }
    };
    let mut answer = respond(&error);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            answer.headers_mut().append(name, value.clone());
        }
    }
    let _: &Body = answer.body();
    answer
}
