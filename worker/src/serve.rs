//! Wiring for the binary: connections, the node key, signals, and the runner with the
//! pipeline.

use anyhow::Context;
use backend::crypto::SecretBox;
use backend::queue::{Queue, QueueKeys, Reader};
use remote_shell::DeployKey;
use tokio_util::sync::CancellationToken;

use crate::config::WorkerConfig;
use crate::notify::Notifier;
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
    let node_key = load_deploy_key(&config).await?;
    tracing::info!(
        path = %config.deploy_key_file.display(),
        public_key = %node_key.public_openssh(),
        "node key (used only toward Proxmox nodes; each container gets its own key); add its public key to /root/.ssh/authorized_keys on each Proxmox node"
    );
    let queue = Queue::with_keys(
        redis.clone(),
        QueueKeys::namespaced(&config.queue_namespace),
    );
    // The first Redis round trip (PostgreSQL's was above): from here on the worker is ready.
    queue
        .ensure_group()
        .await
        .context("cannot reach Redis (REDIS_URL)")?;
    let notifier = Notifier::from_env()
        .context("NOTIFY_SOCKET")?
        .map(std::sync::Arc::new);
    if let Some(notifier) = &notifier {
        notifier.notify("READY=1");
    }
    let probe = crate::metrics::Probe {
        db: db.clone(),
        redis: redis.clone(),
        queue: queue.keys().clone(),
    };
    crate::metrics::start_from_env(probe, shutdown.clone()).await?;
    let (db_for_sweep, queue_for_sweep) = (db.clone(), queue.clone());
    let reader = Reader::new(queue, dedicated);
    let settings = PipelineSettings {
        container_ssh_port: config.container_ssh_port,
        ..PipelineSettings::default()
    };
    let health = tokio::spawn(crate::health::serve(
        crate::health::HealthChecker::new(
            db.clone(),
            secrets.clone(),
            node_key.clone(),
            crate::health::HealthSettings {
                refresh: config.health_refresh,
                container_ssh_port: config.container_ssh_port,
                ..crate::health::HealthSettings::default()
            },
        ),
        backend::health::HealthChecks::new(redis.clone(), &config.queue_namespace),
        backend::redis::connect(&backend.redis_url).await?,
        shutdown.clone(),
    ));
    let pipeline = Pipeline::new(db, redis, secrets, node_key, settings);
    let runner = RunnerConfig::new(config.concurrency)
        .with_lease_ttl(config.lease_ttl)
        .with_shutdown_deadline(config.shutdown_deadline);
    let sweeper = tokio::spawn(requeue_stalled_containers(
        db_for_sweep,
        queue_for_sweep,
        shutdown.clone(),
    ));
    let mut runner = Runner::new(reader, pipeline, runner);
    if let Some(notifier) = notifier.clone() {
        // The lease loop proves the worker is not hung: it feeds systemd's watchdog.
        runner =
            runner.on_lease_renewed(std::sync::Arc::new(move || notifier.notify("WATCHDOG=1")));
    }
    let stopping = notifier.clone().map(|notifier| {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            notifier.notify("STOPPING=1");
        })
    });
    let report = runner.run(shutdown).await;
    if let Some(stopping) = stopping {
        stopping.abort();
    }
    sweeper.abort();
    health.abort();
    tracing::info!(?report, "stopped");
    Ok(report)
}

/// How often the worker looks for containers left `creating` without a job.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// How long such a row must have been untouched (a create call in progress is not stalled).
const STALLED_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// Queues a job again for containers left `creating` without one (see
/// `backend::creation::requeue_stalled`), at start and then every [`SWEEP_EVERY`].
async fn requeue_stalled_containers(
    db: backend::db::DbPool,
    queue: Queue,
    shutdown: CancellationToken,
) {
    loop {
        match db.get().await {
            Ok(mut conn) => {
                if let Err(e) =
                    backend::creation::requeue_stalled(&mut conn, &queue, STALLED_AFTER).await
                {
                    tracing::warn!(error = %e, "could not look for stalled containers");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not look for stalled containers"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
        }
    }
}

/// Reads the node key (`INFRAHAUS_WORKER_DEPLOY_KEY_FILE`), creating it (0600) on first start.
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
