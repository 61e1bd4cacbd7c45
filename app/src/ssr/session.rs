//! Who is signed in: the session cookie, resolved against the sessions table.

use super::ServerContext;
use crate::error::AppError;
use backend::accounts::session_token_hash;
use backend::models::Session;
use domain::UserId;

/// Name of the HttpOnly cookie that holds the session token.
pub const SESSION_COOKIE: &str = "infrahaus_session";

/// The user a request is made for; the server's auth layer puts it in the request extensions.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
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
    let found = Session::find_valid(&mut conn, &hash, chrono::Utc::now()).await?;
    Ok(found.map(|(session, username)| CurrentUser {
        id: session.user_id,
        username,
        session_hash: hash,
        expires_at: session.expires_at,
    }))
}

/// The signed-in user of the current server-function call, or `Unauthorized`.
pub async fn current_user() -> Result<CurrentUser, AppError> {
    let axum::Extension(user) = leptos_axum::extract::<axum::Extension<CurrentUser>>()
        .await
        .map_err(|_| AppError::Unauthorized)?;
    Ok(user)
}
