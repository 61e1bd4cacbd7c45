//! Logging in and out, and who is signed in.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user as the browser sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub username: String,
    pub role: domain::user::Role,
}

impl SignedInUser {
    pub fn is_admin(&self) -> bool {
        self.role == domain::user::Role::Admin
    }
}

/// Checks the credentials and sets the session cookie.
#[server(endpoint = "login", input = server_fn::codec::Json)]
pub async fn login(username: String, password: String) -> Result<SignedInUser, AppError> {
    use crate::ssr::{SESSION_COOKIE, ServerContext, request_client_address};

    let ctx = ServerContext::get()?;
    let username = username.trim().to_owned();
    let mut errors = domain::FieldErrors::new();
    if username.is_empty() {
        errors.add("username", "Enter your user name.");
    }
    if password.is_empty() {
        errors.add("password", "Enter your password.");
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let address = request_client_address(&ctx).await?;
    let mut conn = ctx.conn().await?;
    let session = backend::accounts::login(
        &mut conn,
        &ctx.redis,
        &username,
        &password,
        &address,
        ctx.session_lifetime,
    )
    .await
    .inspect_err(
        |e| tracing::info!(user = %username, client = %address, reason = %e, "login refused"),
    )?;
    tracing::info!(user = %session.user.username, client = %address, "logged in");
    let cookie = session_cookie(
        SESSION_COOKIE,
        &session.token,
        ctx.session_lifetime.num_seconds(),
        ctx.secure_cookies,
    );
    set_cookie(&cookie);
    Ok(SignedInUser {
        username: session.user.username,
        role: session.user.role,
    })
}

/// Ends the current session and clears the cookie.
#[server(endpoint = "logout", input = server_fn::codec::Json)]
pub async fn logout() -> Result<(), AppError> {
    use crate::ssr::{SESSION_COOKIE, ServerContext, current_user};
    let ctx = ServerContext::get()?;
    let user = current_user().await?;
    let mut conn = ctx.conn().await?;
    backend::models::Session::delete(&mut conn, &user.session_hash).await?;
    // Without Redis the streams still end: they recheck their session when the hub reconnects.
    let ended = backend::events::SessionEnd::Session(user.session_hash);
    let announced = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        backend::events::announce_session_end(&ctx.redis, ended),
    )
    .await;
    if !matches!(announced, Ok(Ok(()))) {
        tracing::warn!(user = %user.username, "could not announce the logout to open streams");
    }
    set_cookie(&session_cookie(SESSION_COOKIE, "", 0, ctx.secure_cookies));
    tracing::info!(user = %user.username, "logged out");
    Ok(())
}

/// The signed-in user; `Unauthorized` without a session.
#[server(endpoint = "whoami", input = server_fn::codec::Json)]
pub async fn who_am_i() -> Result<SignedInUser, AppError> {
    let user = crate::ssr::current_user().await?;
    Ok(SignedInUser {
        username: user.username,
        role: user.role,
    })
}

#[cfg(feature = "ssr")]
fn session_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

#[cfg(feature = "ssr")]
fn set_cookie(cookie: &str) {
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(cookie),
    ) {
        options.append_header(http::header::SET_COOKIE, value);
    }
}
