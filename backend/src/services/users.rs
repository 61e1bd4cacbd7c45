//! The users page: every account, adding one, disabling and enabling, resetting a password and
//! changing a role. Admins only ([`Actor::require_admin`]). An admin cannot disable, demote or
//! reset their own account here (their own password is changed on the account page), so there
//! is always an admin who can sign in.

use super::ServiceError;
use crate::accounts::{self, AccountError};
use crate::audit::Actor;
use crate::db::DbPool;
use crate::models::User;
use crate::redis::RedisClient;
use domain::UserId;
use domain::user::{NewUser, Role, UserSummary};

/// What "Only admins can …" says the users page is for.
const MANAGE: &str = "manage users";

/// Every account, by name.
pub async fn list(db: &DbPool, actor: &Actor) -> Result<Vec<UserSummary>, ServiceError> {
    actor.require_admin(MANAGE)?;
    let mut conn = super::conn(db).await?;
    let users = User::list(&mut conn).await?;
    Ok(users.iter().map(|u| summary(u, actor)).collect())
}

/// Adds an account; a taken name is a conflict.
pub async fn create(db: &DbPool, actor: &Actor, new: NewUser) -> Result<UserSummary, ServiceError> {
    actor.require_admin(MANAGE)?;
    let mut conn = super::conn(db).await?;
    let user = accounts::create_user_with_role(&mut conn, &new.username, &new.password, new.role)
        .await
        .map_err(from_account)?;
    Ok(summary(&user, actor))
}

/// Disables an account (its sessions end at once) or enables it again.
pub async fn set_disabled(
    db: &DbPool,
    redis: &RedisClient,
    actor: &Actor,
    id: UserId,
    disabled: bool,
) -> Result<UserSummary, ServiceError> {
    actor.require_admin(MANAGE)?;
    refuse_own(actor, id, "You cannot disable your own account.")?;
    let mut conn = super::conn(db).await?;
    accounts::set_disabled(&mut conn, redis, id, disabled)
        .await
        .map_err(from_account)?;
    Ok(summary(&User::find(&mut conn, id).await?, actor))
}

/// Makes an account an admin or an operator.
pub async fn set_role(
    db: &DbPool,
    actor: &Actor,
    id: UserId,
    role: Role,
) -> Result<UserSummary, ServiceError> {
    actor.require_admin(MANAGE)?;
    refuse_own(actor, id, "You cannot change your own role.")?;
    let mut conn = super::conn(db).await?;
    if !User::set_role(&mut conn, id, role).await? {
        return Err(ServiceError::NotFound);
    }
    Ok(summary(&User::find(&mut conn, id).await?, actor))
}

/// Sets a new password for an account and ends its sessions; the password was checked.
pub async fn reset_password(
    db: &DbPool,
    redis: &RedisClient,
    actor: &Actor,
    id: UserId,
    password: &str,
) -> Result<(), ServiceError> {
    actor.require_admin(MANAGE)?;
    refuse_own(
        actor,
        id,
        "Change your own password on the Account page (it asks for the current one).",
    )?;
    let mut conn = super::conn(db).await?;
    accounts::reset_password_of(&mut conn, redis, id, password)
        .await
        .map_err(from_account)
}

fn refuse_own(actor: &Actor, id: UserId, message: &str) -> Result<(), ServiceError> {
    if actor.user_id == Some(id) {
        Err(ServiceError::Conflict(message.to_owned()))
    } else {
        Ok(())
    }
}

fn summary(user: &User, actor: &Actor) -> UserSummary {
    UserSummary {
        id: user.id,
        username: user.username.clone(),
        role: user.role,
        disabled: user.disabled_at.is_some(),
        created: user.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        is_you: actor.user_id == Some(user.id),
    }
}

/// An account change that did not go through, as the users page shows it.
fn from_account(err: AccountError) -> ServiceError {
    match err {
        AccountError::WeakPassword(message) => ServiceError::invalid("password", message),
        AccountError::UsernameTaken(name) => {
            ServiceError::Conflict(format!("A user named {name} exists already."))
        }
        AccountError::NoSuchUser(_) => ServiceError::NotFound,
        AccountError::Database(e) => e.into(),
        AccountError::Redis(e) => e.into(),
        other => ServiceError::Internal(other.to_string()),
    }
}
