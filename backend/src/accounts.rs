//! Accounts: argon2id password hashes, creating, disabling and resetting accounts, changing
//! one's own password, session tokens and login throttling.

use crate::db::DbConn;
use crate::models::{Session, User};
use crate::redis::RedisClient;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use domain::UserId;
use domain::user::Role;
use fred::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Login attempts allowed per (account, client address) within [`THROTTLE_WINDOW_SECS`].
pub const MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: i64 = 5;
/// Login attempts allowed per client address within [`THROTTLE_WINDOW_SECS`].
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;
/// How long a login waits for a free password check before it is told to try again.
const VERIFY_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Why a login or account change did not go through.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Wrong user name or password; deliberately says which of the two.
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("too many failed logins; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: i64 },
    /// Every password check is busy; the attempt was not counted.
    #[error("the server is busy checking other logins")]
    Busy,
    /// The right password, but the account is disabled.
    #[error("the account is disabled")]
    Disabled,
    /// A password change named a wrong current password.
    #[error("wrong current password")]
    WrongCurrentPassword,
    /// The new password breaks a rule ([`domain::user::password`]); the text says which.
    #[error("password: {0}")]
    WeakPassword(String),
    #[error("a user named {0} exists already")]
    UsernameTaken(String),
    #[error("no such user: {0}")]
    NoSuchUser(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("Redis error: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

pub const MIN_PASSWORD_LEN: usize = domain::user::MIN_PASSWORD_LEN;

/// Hashes a password that follows the rules ([`domain::user::password`]) with argon2id and a
/// random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    domain::user::password(password).map_err(AccountError::WeakPassword)?;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Checks a password against a stored hash; a malformed hash never verifies.
///
/// argon2id needs 19 MiB of working memory per check, allocated for the check and freed after
/// it. The server binary has glibc map such allocations on their own
/// (`server/src/allocator.rs`), so the memory goes back to the system when the check ends
/// instead of staying resident in the checking thread's heap.
pub fn verify_password(stored_hash: &str, password: &str) -> bool {
    use argon2::password_hash::Output;
    use argon2::{Algorithm, Block, Params, Version};
    let Ok(parsed) = PasswordHash::new(stored_hash) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let Ok(version) = parsed.version.map(Version::try_from).transpose() else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let block_count = params.block_count();
    let hasher = Argon2::new(algorithm, version.unwrap_or_default(), params);
    let mut computed = vec![0u8; expected.len()];
    let mut blocks = vec![Block::default(); block_count];
    let hashed = hasher.hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut computed,
        &mut blocks,
    );
    drop(blocks);
    // `Output`'s equality runs in constant time.
    hashed.is_ok() && Output::new(&computed).is_ok_and(|c| c == expected)
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

/// Creates an admin; the caller validated the name.
pub async fn create_user(
    conn: &mut DbConn,
    username: &str,
    password: &str,
) -> Result<User, AccountError> {
    create_user_with_role(conn, username, password, Role::Admin).await
}

/// Creates a user with `role`; the caller validated the name.
pub async fn create_user_with_role(
    conn: &mut DbConn,
    username: &str,
    password: &str,
    role: Role,
) -> Result<User, AccountError> {
    let hash = hash_password(password)?;
    User::create(conn, username, &hash, role)
        .await
        .map_err(|e| match e {
            e if crate::models::is_unique_violation(&e) => {
                AccountError::UsernameTaken(username.to_owned())
            }
            e => e.into(),
        })
}

/// Sets a new password and ends the user's sessions, their open progress streams included.
pub async fn reset_password(
    conn: &mut DbConn,
    redis: &RedisClient,
    username: &str,
    password: &str,
) -> Result<(), AccountError> {
    let user = User::find_by_username(conn, username)
        .await?
        .ok_or_else(|| AccountError::NoSuchUser(username.to_owned()))?;
    reset_password_of(conn, redis, user.id, password).await
}

/// [`reset_password`] by the account's id.
pub async fn reset_password_of(
    conn: &mut DbConn,
    redis: &RedisClient,
    user_id: UserId,
    password: &str,
) -> Result<(), AccountError> {
    let hash = hash_password(password)?;
    if !User::set_password_hash(conn, user_id, &hash).await? {
        return Err(AccountError::NoSuchUser(user_id.to_string()));
    }
    end_sessions(conn, redis, user_id).await
}

/// Ends every session of a user at once, their open progress streams included.
pub async fn end_sessions(
    conn: &mut DbConn,
    redis: &RedisClient,
    user_id: UserId,
) -> Result<(), AccountError> {
    Session::delete_for_user(conn, user_id).await?;
    crate::events::announce_session_end(redis, crate::events::SessionEnd::User(user_id)).await?;
    Ok(())
}

/// Disables an account and ends its sessions at once, or enables it again.
pub async fn set_disabled(
    conn: &mut DbConn,
    redis: &RedisClient,
    user_id: UserId,
    disabled: bool,
) -> Result<(), AccountError> {
    if !User::set_disabled(conn, user_id, disabled).await? {
        return Err(AccountError::NoSuchUser(user_id.to_string()));
    }
    if disabled {
        end_sessions(conn, redis, user_id).await?;
    }
    Ok(())
}

/// A signed-in user changes their own password: `current` is checked like a login (counted
/// against the same limits, from `client_address`), then the new password is set and every
/// other session of theirs ends; the session `keep` (the one asking) stays.
pub async fn change_own_password(
    conn: &mut DbConn,
    redis: &RedisClient,
    user_id: UserId,
    keep: &[u8],
    client_address: &str,
    current: &str,
    new_password: &str,
) -> Result<(), AccountError> {
    let user = User::find(conn, user_id).await?;
    let keys = ThrottleKeys::new(&user.username, client_address);
    let retry_after_secs = count_attempt(redis, &keys).await?;
    if retry_after_secs > 0 {
        return Err(AccountError::Throttled { retry_after_secs });
    }
    let Some(matches) = verify_in_pool(Some(user.password_hash.clone()), current.to_owned()).await
    else {
        uncount(redis, &[&keys.pair, &keys.address]).await?;
        return Err(AccountError::Busy);
    };
    if !matches {
        return Err(AccountError::WrongCurrentPassword);
    }
    let _: i64 = redis.del(&keys.pair).await?;
    uncount(redis, &[&keys.address]).await?;
    let hash = hash_password(new_password)?;
    User::set_password_hash(conn, user_id, &hash).await?;
    for ended in Session::delete_others_of_user(conn, user_id, keep).await? {
        crate::events::announce_session_end(redis, crate::events::SessionEnd::Session(ended))
            .await?;
    }
    Ok(())
}

/// A successful login: the cookie token and when it expires.
pub struct NewSession {
    pub token: String,
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

/// Checks credentials and opens a session.
///
/// # Throttling
/// An attempt is counted in Redis *before* its password is checked, atomically with the check
/// of the limits ([`COUNT_ATTEMPT`]), so a burst of parallel requests gets at most
/// [`MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS`] password checks. Limits are per (account, client
/// address) and per address, never per account alone: someone guessing from one address cannot
/// lock the owner out at another. A successful login clears its (account, address) count and
/// gives back its address count. Password checks (argon2id, 19 MiB each) run at most one per
/// core at a time; an attempt that waits longer than a few seconds for one is refused as
/// [`AccountError::Busy`] and not counted.
pub async fn login(
    conn: &mut DbConn,
    redis: &RedisClient,
    username: &str,
    password: &str,
    client_address: &str,
    session_lifetime: Duration,
) -> Result<NewSession, AccountError> {
    let keys = ThrottleKeys::new(username, client_address);
    let retry_after_secs = count_attempt(redis, &keys).await?;
    if retry_after_secs > 0 {
        return Err(AccountError::Throttled { retry_after_secs });
    }
    let user = User::find_by_username(conn, username).await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let Some(matches) = verify_in_pool(stored_hash, password.to_owned()).await else {
        uncount(redis, &[&keys.pair, &keys.address]).await?;
        return Err(AccountError::Busy);
    };
    let user = match (user, matches) {
        (Some(user), true) => user,
        _ => return Err(AccountError::BadCredentials),
    };
    // Told only to whoever knows the password; the attempt stays counted.
    if user.disabled_at.is_some() {
        return Err(AccountError::Disabled);
    }
    let _: i64 = redis.del(&keys.pair).await?;
    uncount(redis, &[&keys.address]).await?;

    let (token, token_hash) = new_session_token();
    let expires_at = Utc::now() + session_lifetime;
    Session::create(conn, &token_hash, user.id, expires_at).await?;
    Ok(NewSession {
        token,
        user,
        expires_at,
    })
}

/// Password checks done by this process since it started (for tests and metrics).
pub fn password_checks() -> u64 {
    PASSWORD_CHECKS.load(std::sync::atomic::Ordering::Relaxed)
}

static PASSWORD_CHECKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Checks `password` against `stored_hash` (the decoy when the user does not exist) on a
/// password check thread, once a check slot is free; `None` when none was free in time.
async fn verify_in_pool(stored_hash: Option<String>, password: String) -> Option<bool> {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    });
    let _slot = tokio::time::timeout(VERIFY_QUEUE_WAIT, slots.acquire())
        .await
        .ok()?
        .ok()?;
    PASSWORD_CHECKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (answer, answered) = tokio::sync::oneshot::channel();
    check_threads().send(Box::new(move || {
        let hash = stored_hash.unwrap_or_else(|| decoy_hash().to_owned());
        let _ = answer.send(verify_password(&hash, &password));
    }));
    answered.await.ok()
}

/// A password check to run on one of the [`check_threads`].
type CheckJob = Box<dyn FnOnce() + Send>;

/// The threads that check passwords, one per core: at most that many checks (19 MiB of argon2id
/// memory each) run at once, and none of them holds up the async runtime.
fn check_threads() -> &'static CheckThreads {
    static THREADS: std::sync::OnceLock<CheckThreads> = std::sync::OnceLock::new();
    THREADS.get_or_init(CheckThreads::start)
}

struct CheckThreads {
    jobs: std::sync::mpsc::Sender<CheckJob>,
}

impl CheckThreads {
    fn start() -> CheckThreads {
        let (jobs, queue) = std::sync::mpsc::channel::<CheckJob>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..cores {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-check-{i}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password check thread");
            }
        }
        CheckThreads { jobs }
    }

    /// Queues `job`; a job that cannot be queued is dropped, which its caller sees as no answer.
    fn send(&self, job: CheckJob) {
        let _ = self.jobs.send(job);
    }
}

/// The Redis keys that count one login's attempts.
struct ThrottleKeys {
    pair: String,
    address: String,
}

impl ThrottleKeys {
    fn new(username: &str, client_address: &str) -> ThrottleKeys {
        // User names have at most 64 characters; a longer one never logs in anyway.
        let account: String = username.to_lowercase().chars().take(64).collect();
        ThrottleKeys {
            pair: format!("infrahaus:login-attempts:pair:{client_address}:{account}"),
            address: format!("infrahaus:login-attempts:address:{client_address}"),
        }
    }
}

/// Refuses when a limit is reached, else counts the attempt against every limit.
/// KEYS: the counters. ARGV: window seconds, then each counter's limit.
/// Returns 0 when counted, else the seconds until the fullest counter frees up.
const COUNT_ATTEMPT: &str = r"
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 1 then
      redis.call('EXPIRE', key, ARGV[1])
      ttl = tonumber(ARGV[1])
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return 0
";

/// Takes one attempt back from each counter that still has one. KEYS: the counters.
const UNCOUNT: &str = r"
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
";

async fn count_attempt(redis: &RedisClient, keys: &ThrottleKeys) -> Result<i64, AccountError> {
    let args = vec![
        THROTTLE_WINDOW_SECS.to_string(),
        MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS.to_string(),
        MAX_FAILURES_PER_ADDRESS.to_string(),
    ];
    eval(redis, COUNT_ATTEMPT, &[&keys.pair, &keys.address], args).await
}

async fn uncount(redis: &RedisClient, keys: &[&str]) -> Result<(), AccountError> {
    eval(redis, UNCOUNT, keys, Vec::new()).await.map(drop)
}

/// `EVAL`s a short script (logins are rare enough not to need EVALSHA).
async fn eval(
    redis: &RedisClient,
    script: &'static str,
    keys: &[&str],
    args: Vec<String>,
) -> Result<i64, AccountError> {
    use fred::types::{ClusterHash, CustomCommand, Value};
    let mut argv: Vec<Value> = vec![script.into(), (keys.len() as i64).into()];
    argv.extend(keys.iter().map(|k| Value::from(*k)));
    argv.extend(args.into_iter().map(Value::from));
    let command = CustomCommand::new_static("EVAL", ClusterHash::Offset(2), false);
    let reply: Value = redis.custom(command, argv).await?;
    Ok(reply.as_i64().unwrap_or(0))
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
            Err(AccountError::WeakPassword(_))
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
