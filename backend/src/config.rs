//! Configuration from environment variables.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `DATABASE_URL` | PostgreSQL URL | required |
//! | `REDIS_URL` | Redis URL | required |
//! | `INFRAHAUS_SECRET_KEY_FILE` | 32-byte key for secrets at rest, created 0600 if absent | `data/secret.key` |
//!
//! Each binary adds its own variables (listen address, worker concurrency …) in its own config
//! module, using [`var`], [`var_or`] and [`parse_var`] so that every message names the variable.

use std::path::PathBuf;

/// A missing or malformed configuration value; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
}

/// The value of a required variable.
pub fn var(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        Ok(_) | Err(std::env::VarError::NotPresent) => Err(ConfigError::Missing(name)),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::Malformed {
            name,
            reason: "not valid UTF-8".into(),
        }),
    }
}

/// The value of an optional variable, or `default`.
pub fn var_or(name: &'static str, default: &str) -> Result<String, ConfigError> {
    match var(name) {
        Err(ConfigError::Missing(_)) => Ok(default.to_owned()),
        other => other,
    }
}

/// An optional variable parsed with `FromStr`, or `default`.
pub fn parse_var<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match var(name) {
        Err(ConfigError::Missing(_)) => Ok(default),
        Err(e) => Err(e),
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Malformed {
                name,
                reason: format!("{v:?}: {e}"),
            }),
    }
}

/// Where the shared services are.
#[derive(Clone)]
pub struct BackendConfig {
    pub database_url: String,
    pub redis_url: String,
    pub secret_key_file: PathBuf,
}

impl std::fmt::Debug for BackendConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &redact_url(&self.redis_url))
            .field("secret_key_file", &self.secret_key_file)
            .finish()
    }
}

impl BackendConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let database_url = var("DATABASE_URL")?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError::Malformed {
                name: "DATABASE_URL",
                reason: "expected postgres://user:password@host:port/database".into(),
            });
        }
        let redis_url = var("REDIS_URL")?;
        if !(redis_url.starts_with("redis://") || redis_url.starts_with("rediss://")) {
            return Err(ConfigError::Malformed {
                name: "REDIS_URL",
                reason: "expected redis://host:port".into(),
            });
        }
        let secret_key_file =
            PathBuf::from(var_or("INFRAHAUS_SECRET_KEY_FILE", "data/secret.key")?);
        Ok(Self {
            database_url,
            redis_url,
            secret_key_file,
        })
    }
}

/// A URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
