//! Who is signed in: the session cookie, resolved against the sessions table.

use super::ServerContext;
use crate::error::AppError;
use backend::accounts::session_token_hash;
use backend::models::Session;
use domain::UserId;
use domain::user::Role;

/// Name of the HttpOnly cookie that holds the session token.
pub const SESSION_COOKIE: &str = "infrahaus_session";

/// The user a request is made for; the server's auth layer puts it in the request extensions.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    /// Hash of the session token, to end exactly this session on logout.
    pub session_hash: Vec<u8>,
    /// When the session expires; open streams end then.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The user whose unexpired session `token` names, if any.
pub async fn resolve_session(
    ctx: &ServerContext,
    token: &str,
) -> Result<Option<CurrentUser>, AppError> {
    let hash = session_token_hash(token);
    let mut conn = ctx.conn().await?;
    let found = Session::find_signed_in(&mut conn, &hash, chrono::Utc::now()).await?;
    Ok(found.map(|(session, user)| CurrentUser {
        id: session.user_id,
        username: user.username,
        role: user.role,
        session_hash: hash,
        expires_at: session.expires_at,
    }))
}

impl CurrentUser {
    /// Who the backend's services act for.
    pub fn actor(&self) -> backend::audit::Actor {
        backend::audit::Actor::user(self.id, self.username.clone(), self.role)
    }
}

/// The signed-in user of the current call if they are an admin; `Forbidden` ("Only admins can
/// `what`.") for an operator, `Unauthorized` without a session.
pub async fn require_admin(what: &str) -> Result<CurrentUser, AppError> {
    let user = current_user().await?;
    user.actor().require_admin(what)?;
    Ok(user)
}

/// The signed-in user of the current server-function call, or `Unauthorized`.
pub async fn current_user() -> Result<CurrentUser, AppError> {
    let axum::Extension(user) = leptos_axum::extract::<axum::Extension<CurrentUser>>()
        .await
        .map_err(|_| AppError::Unauthorized)?;
    Ok(user)
}

/// The address the current call comes from, as login throttling counts it (see
/// [`ServerContext::client_address`]).
pub async fn request_client_address(ctx: &ServerContext) -> Result<String, AppError> {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map(|ConnectInfo(addr)| addr.ip())
        .map_err(|_| {
            tracing::error!("a call without the peer's address (serve with connect info)");
            AppError::Internal
        })?;
    let headers = leptos_axum::extract::<http::HeaderMap>()
        .await
        .unwrap_or_default();
    let forwarded_for = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    Ok(ctx.client_address(peer, forwarded_for).to_string())
}
