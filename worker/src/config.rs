//! Worker configuration from environment variables.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `INFRAHAUS_WORKER_CONCURRENCY` | jobs run at once | `2` |
//! | `INFRAHAUS_WORKER_DEPLOY_KEY_FILE` | the worker's node key pair (for SSH to the Proxmox nodes only; containers get keys of their own), created 0600 on first start | `data/deploy_ed25519` |
//! | `INFRAHAUS_WORKER_SHUTDOWN_SECS` | on SIGTERM, how long running jobs get to reach a checkpoint | `60` |
//! | `INFRAHAUS_WORKER_LEASE_SECS` | how long the worker's lease lives unless renewed (every quarter of it); once it lapses another worker takes its jobs over | `8` |
//! | `INFRAHAUS_CONTAINER_SSH_PORT` | the port containers' sshd listens on | `22` |
//! | `INFRAHAUS_HEALTH_REFRESH_SECS` | how often a container page left open asks for a new check of its services | `180` |
//! | `INFRAHAUS_QUEUE_NAMESPACE` | prefix of the job queue's Redis keys; for tests (the server always uses the default) | `infrahaus` |
//!
//! plus the shared `DATABASE_URL`, `REDIS_URL` and `INFRAHAUS_SECRET_KEY_FILE`.

use std::path::PathBuf;
use std::time::Duration;

use backend::config::{BackendConfig, ConfigError, parse_var, var_or};

/// Everything the worker binary reads at start.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub backend: BackendConfig,
    pub concurrency: usize,
    pub deploy_key_file: PathBuf,
    pub shutdown_deadline: Duration,
    pub lease_ttl: Duration,
    pub container_ssh_port: u16,
    pub queue_namespace: String,
    pub health_refresh: Duration,
}

impl WorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let backend = BackendConfig::from_env()?;
        let concurrency: usize = parse_var("INFRAHAUS_WORKER_CONCURRENCY", 2)?;
        if !(1..=256).contains(&concurrency) {
            return Err(malformed(
                "INFRAHAUS_WORKER_CONCURRENCY",
                "expected 1 to 256",
            ));
        }
        let deploy_key_file = PathBuf::from(var_or(
            "INFRAHAUS_WORKER_DEPLOY_KEY_FILE",
            "data/deploy_ed25519",
        )?);
        let shutdown: u64 = parse_var("INFRAHAUS_WORKER_SHUTDOWN_SECS", 60)?;
        let lease: u64 = parse_var("INFRAHAUS_WORKER_LEASE_SECS", 8)?;
        if !(1..=300).contains(&lease) {
            return Err(malformed(
                "INFRAHAUS_WORKER_LEASE_SECS",
                "expected 1 to 300",
            ));
        }
        let container_ssh_port: u16 = parse_var("INFRAHAUS_CONTAINER_SSH_PORT", 22)?;
        if container_ssh_port == 0 {
            return Err(malformed(
                "INFRAHAUS_CONTAINER_SSH_PORT",
                "expected 1 to 65535",
            ));
        }
        let health_refresh: u64 = parse_var("INFRAHAUS_HEALTH_REFRESH_SECS", 180)?;
        if !(10..=86_400).contains(&health_refresh) {
            return Err(malformed(
                "INFRAHAUS_HEALTH_REFRESH_SECS",
                "expected 10 to 86400",
            ));
        }
        let queue_namespace = var_or("INFRAHAUS_QUEUE_NAMESPACE", "infrahaus")?;
        if !queue_namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        {
            return Err(malformed(
                "INFRAHAUS_QUEUE_NAMESPACE",
                "use letters, digits, '-', '_', '.' and ':'",
            ));
        }
        Ok(Self {
            backend,
            concurrency,
            deploy_key_file,
            shutdown_deadline: Duration::from_secs(shutdown),
            lease_ttl: Duration::from_secs(lease),
            container_ssh_port,
            queue_namespace,
            health_refresh: Duration::from_secs(health_refresh),
        })
    }
}

fn malformed(name: &'static str, reason: &str) -> ConfigError {
    ConfigError::Malformed {
        name,
        reason: reason.into(),
    }
}
