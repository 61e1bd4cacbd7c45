//! Accounts: the users page (admins only: list, add, disable or enable, reset a password,
//! change a role) and the account page (everyone: change one's own password). Thin adapters
//! over `backend::services::users`; an operator gets 403 before their input is looked at.

use crate::error::AppError;
use domain::UserId;
use domain::user::{ChangePasswordForm, NewUserForm, PasswordForm, Role, UserSummary};
use leptos::prelude::*;

/// What "Only admins can …" says the users page is for.
#[cfg(feature = "ssr")]
const MANAGE: &str = "manage users";

/// Every account, by name.
#[server(endpoint = "users/list", input = server_fn::codec::Json)]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    use crate::ssr::{ServerContext, require_admin};
    let user = require_admin(MANAGE).await?;
    let ctx = ServerContext::get()?;
    Ok(backend::services::users::list(&ctx.db, &user.actor()).await?)
}

/// Adds an account: a user name, a password typed twice and a role.
#[server(endpoint = "users/create", input = server_fn::codec::Json)]
pub async fn create_user(form: NewUserForm) -> Result<UserSummary, AppError> {
    use crate::ssr::{ServerContext, require_admin};
    let user = require_admin(MANAGE).await?;
    let ctx = ServerContext::get()?;
    let new = form.validate()?;
    let created = backend::services::users::create(&ctx.db, &user.actor(), new).await?;
    tracing::info!(user = %user.username, created = %created.username, role = %created.role, "user created");
    Ok(created)
}

/// Disables an account (its sessions end at once) or enables it again.
#[server(endpoint = "users/set_disabled", input = server_fn::codec::Json)]
pub async fn set_user_disabled(id: UserId, disabled: bool) -> Result<UserSummary, AppError> {
    use crate::ssr::{ServerContext, require_admin};
    let user = require_admin(MANAGE).await?;
    let ctx = ServerContext::get()?;
    let changed =
        backend::services::users::set_disabled(&ctx.db, &ctx.redis, &user.actor(), id, disabled)
            .await?;
    tracing::info!(user = %user.username, account = %changed.username, disabled, "account disabled or enabled");
    Ok(changed)
}

/// Makes an account an admin or an operator.
#[server(endpoint = "users/set_role", input = server_fn::codec::Json)]
pub async fn set_user_role(id: UserId, role: Role) -> Result<UserSummary, AppError> {
    use crate::ssr::{ServerContext, require_admin};
    let user = require_admin(MANAGE).await?;
    let ctx = ServerContext::get()?;
    let changed = backend::services::users::set_role(&ctx.db, &user.actor(), id, role).await?;
    tracing::info!(user = %user.username, account = %changed.username, role = %role, "role changed");
    Ok(changed)
}

/// Sets a new password (typed twice) for another account and ends its sessions.
#[server(endpoint = "users/reset_password", input = server_fn::codec::Json)]
pub async fn reset_user_password(id: UserId, form: PasswordForm) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, require_admin};
    let user = require_admin(MANAGE).await?;
    let ctx = ServerContext::get()?;
    let password = form.validate()?;
    backend::services::users::reset_password(&ctx.db, &ctx.redis, &user.actor(), id, &password)
        .await?;
    tracing::info!(user = %user.username, account.id = %id, "password reset");
    Ok(())
}

/// Changes the signed-in user's own password: the current one (checked, and counted like a
/// login attempt), the new one typed twice. Their other sessions end; this one stays.
#[server(endpoint = "account/change_password", input = server_fn::codec::Json)]
pub async fn change_own_password(form: ChangePasswordForm) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, current_user, request_client_address};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let new_password = form.validate()?;
    let address = request_client_address(&ctx).await?;
    let mut conn = ctx.conn().await?;
    backend::accounts::change_own_password(
        &mut conn,
        &ctx.redis,
        user.id,
        &user.session_hash,
        &address,
        &form.current_password,
        &new_password,
    )
    .await
    .inspect_err(|e| tracing::info!(user = %user.username, client = %address, reason = %e, "password change refused"))?;
    tracing::info!(user = %user.username, "password changed");
    Ok(())
}
