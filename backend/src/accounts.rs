//! Accounts: argon2id password hashes, session tokens and login throttling.

use crate::db::DbConn;
use crate::models::{Session, User};
use crate::redis::RedisClient;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use fred::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Failed attempts allowed per account within [`THROTTLE_WINDOW_SECS`].
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed attempts allowed per client address within [`THROTTLE_WINDOW_SECS`].
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;

/// Why a login or account change did not go through.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Wrong user name or password; deliberately says which of the two.
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("too many failed logins; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: i64 },
    #[error("the password must have at least {min} characters")]
    WeakPassword { min: usize },
    #[error("no such user: {0}")]
    NoSuchUser(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("Redis error: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

pub const MIN_PASSWORD_LEN: usize = 8;

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AccountError::WeakPassword {
            min: MIN_PASSWORD_LEN,
        });
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Checks a password against a stored hash; a malformed hash never verifies.
pub fn verify_password(stored_hash: &str, password: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a password nobody has, verified against when the user does not exist so that a
/// wrong user name takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy-password-never-matches").unwrap_or_default())
}

/// A new random session token (for the cookie) and its SHA-256 (for the database).
pub fn new_session_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = session_token_hash(&token);
    (token, hash)
}

pub fn session_token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates a user; the caller validated the name.
pub async fn create_user(
    conn: &mut DbConn,
    username: &str,
    password: &str,
) -> Result<User, AccountError> {
    let hash = hash_password(password)?;
    Ok(User::create(conn, username, &hash).await?)
}

/// Sets a new password and ends the user's sessions.
pub async fn reset_password(
    conn: &mut DbConn,
    username: &str,
    password: &str,
) -> Result<(), AccountError> {
    let hash = hash_password(password)?;
    let user = User::find_by_username(conn, username)
        .await?
        .ok_or_else(|| AccountError::NoSuchUser(username.to_owned()))?;
    User::set_password_hash(conn, user.id, &hash).await?;
    Session::delete_for_user(conn, user.id).await?;
    Ok(())
}

/// A successful login: the cookie token and when it expires.
pub struct NewSession {
    pub token: String,
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

/// Checks credentials, throttled per account and per client address, and opens a session.
pub async fn login(
    conn: &mut DbConn,
    redis: &RedisClient,
    username: &str,
    password: &str,
    client_address: &str,
    session_lifetime: Duration,
) -> Result<NewSession, AccountError> {
    let account_key = format!(
        "infrahaus:login-failures:account:{}",
        username.to_lowercase()
    );
    let address_key = format!("infrahaus:login-failures:address:{client_address}");
    for (key, limit) in [
        (&account_key, MAX_FAILURES_PER_ACCOUNT),
        (&address_key, MAX_FAILURES_PER_ADDRESS),
    ] {
        let failures: Option<i64> = redis.get(key).await?;
        if failures.unwrap_or(0) >= limit {
            let ttl: i64 = redis.ttl(key).await?;
            return Err(AccountError::Throttled {
                retry_after_secs: ttl.max(1),
            });
        }
    }

    let user = User::find_by_username(conn, username).await?;
    let stored_hash = user
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let password_owned = password.to_owned();
    let matches =
        tokio::task::spawn_blocking(move || verify_password(&stored_hash, &password_owned))
            .await
            .unwrap_or(false);
    let user = match (user, matches) {
        (Some(user), true) => user,
        _ => {
            for key in [&account_key, &address_key] {
                let count: i64 = redis.incr(key).await?;
                if count == 1 {
                    let _: () = redis.expire(key, THROTTLE_WINDOW_SECS, None).await?;
                }
            }
            return Err(AccountError::BadCredentials);
        }
    };
    let _: i64 = redis.del(&account_key).await?;

    let (token, token_hash) = new_session_token();
    let expires_at = Utc::now() + session_lifetime;
    Session::create(conn, &token_hash, user.id, expires_at).await?;
    Ok(NewSession {
        token,
        user,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "correct horsE"));
        assert!(!verify_password("not a hash", "correct horse"));
        assert!(matches!(
            hash_password("short"),
            Err(AccountError::WeakPassword { .. })
        ));
    }

    #[test]
    fn session_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_session_token();
        let (b, _) = new_session_token();
        assert_ne!(a, b);
        assert_eq!(hash_a, session_token_hash(&a));
        assert_eq!(hash_a.len(), 32);
    }
}
