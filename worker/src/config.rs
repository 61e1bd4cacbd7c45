//! Worker configuration from environment variables.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `INFRAHAUS_WORKER_CONCURRENCY` | jobs run at once | `2` |
//!
//! plus the shared `DATABASE_URL`, `REDIS_URL` and `INFRAHAUS_SECRET_KEY_FILE`.

use backend::config::{BackendConfig, ConfigError, parse_var};

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub backend: BackendConfig,
    pub concurrency: usize,
}

impl WorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let backend = BackendConfig::from_env()?;
        let concurrency: usize = parse_var("INFRAHAUS_WORKER_CONCURRENCY", 2)?;
        if !(1..=256).contains(&concurrency) {
            return Err(ConfigError::Malformed {
                name: "INFRAHAUS_WORKER_CONCURRENCY",
                reason: "expected 1 to 256".into(),
            });
        }
        Ok(Self {
            backend,
            concurrency,
        })
    }
}
