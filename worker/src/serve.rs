//! Wiring for the binary: connections, the deploy key, signals, and the runner with the
//! pipeline.

use anyhow::Context;
use backend::crypto::SecretBox;
use backend::queue::{Queue, QueueKeys, Reader};
use remote_shell::DeployKey;
use tokio_util::sync::CancellationToken;

use crate::config::WorkerConfig;
use crate::pipeline::{Pipeline, PipelineSettings};
use crate::runner::{RunReport, Runner, RunnerConfig};

/// Connects to everything, then runs jobs until `shutdown` is cancelled.
pub async fn run(config: WorkerConfig, shutdown: CancellationToken) -> anyhow::Result<RunReport> {
    let backend = &config.backend;
    backend::db::run_migrations(&backend.database_url).await?;
    let db = backend::db::pool(&backend.database_url, config.concurrency + 2)?;
    drop(
        db.get()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach PostgreSQL (DATABASE_URL): {e}"))?,
    );
    let redis = backend::redis::connect(&backend.redis_url).await?;
    // A blocking read holds its connection: the reader gets one of its own.
    let dedicated = backend::redis::connect(&backend.redis_url).await?;
    let secrets = SecretBox::load_or_create(&backend.secret_key_file)?;
    let deploy_key = load_deploy_key(&config).await?;
    tracing::info!(
        path = %config.deploy_key_file.display(),
        public_key = %deploy_key.public_openssh(),
        "deploy key; for the pct fallback, add its public key to /root/.ssh/authorized_keys on each Proxmox node"
    );
    let queue = Queue::with_keys(
        redis.clone(),
        QueueKeys::namespaced(&config.queue_namespace),
    );
    let reader = Reader::new(queue, dedicated);
    let settings = PipelineSettings {
        container_ssh_port: config.container_ssh_port,
        ..PipelineSettings::default()
    };
    let pipeline = Pipeline::new(db, redis, secrets, deploy_key, settings);
    let runner = RunnerConfig::new(config.concurrency)
        .with_reclaim_idle(config.reclaim_idle)
        .with_shutdown_deadline(config.shutdown_deadline);
    let report = Runner::new(reader, pipeline, runner).run(shutdown).await;
    tracing::info!(?report, "stopped");
    Ok(report)
}

/// Reads the deploy key, creating it (0600) on first start.
pub async fn load_deploy_key(config: &WorkerConfig) -> anyhow::Result<DeployKey> {
    let path = config.deploy_key_file.clone();
    tokio::task::spawn_blocking(move || DeployKey::load_or_create(&path))
        .await
        .context("loading the deploy key")?
        .context("INFRAHAUS_WORKER_DEPLOY_KEY_FILE")
}

/// A token cancelled on SIGTERM or Ctrl-C.
pub fn shutdown_on_signals() -> anyhow::Result<CancellationToken> {
    use tokio::signal::unix::{SignalKind, signal};
    let token = CancellationToken::new();
    let mut terminate = signal(SignalKind::terminate()).context("installing a SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing a SIGINT handler")?;
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
            _ = interrupt.recv() => tracing::info!("SIGINT: stopping"),
        }
        cancel.cancel();
    });
    Ok(token)
}
