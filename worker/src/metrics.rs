//! The worker's metrics listener and what the worker records.
//!
//! `INFRAHAUS_WORKER_METRICS_LISTEN` (e.g. `127.0.0.1:9465`; unset: no listener) serves
//! `GET /metrics` (Prometheus text) and `GET /ready` (200 when PostgreSQL and Redis answer within
//! a second, else 503 naming what is away). It has no access control of its own: bind it to an
//! address only Prometheus reaches.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `infrahaus_jobs_started_total` | counter | |
//! | `infrahaus_jobs_finished_total` | counter | `outcome`: `done`, `retry` (given back), `interrupted` (left at a checkpoint) |
//! | `infrahaus_jobs_taken_over_total` | counter | (taken from a worker whose lease was gone) |
//! | `infrahaus_containers_finished_total` | counter | `result`: `ready`, `failed` |
//! | `infrahaus_job_duration_seconds` | histogram | `outcome` |
//! | `infrahaus_phase_duration_seconds` | histogram | `phase` |
//! | `infrahaus_queue_depth`, `infrahaus_queue_pending` | gauge | (read at each scrape) |
//! | `infrahaus_ssh_connect_retries_total` | counter | (recorded by `remote_shell`) |
//! | `infrahaus_pve_request_duration_seconds` | histogram | `method`, `endpoint`, `status` (recorded by `pve_client`) |

use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use backend::config::{ConfigError, var_or};
use backend::db::DbPool;
use backend::queue::QueueKeys;
use backend::redis::RedisClient;
use domain::container::Phase;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::runner::{JobOutcome, JobRun};

/// What the listener reads: the database and Redis to probe, the queue to measure.
#[derive(Clone)]
pub struct Probe {
    pub db: DbPool,
    pub redis: RedisClient,
    pub queue: QueueKeys,
}

/// `INFRAHAUS_WORKER_METRICS_LISTEN`, when set.
pub fn listen_from_env() -> Result<Option<SocketAddr>, ConfigError> {
    let text = var_or("INFRAHAUS_WORKER_METRICS_LISTEN", "")?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| ConfigError::Malformed {
        name: "INFRAHAUS_WORKER_METRICS_LISTEN",
        reason: format!("{text:?} is not an address:port"),
    })
}

/// Installs the recorder and, when `INFRAHAUS_WORKER_METRICS_LISTEN` is set, serves the
/// listener until `shutdown`.
pub async fn start_from_env(probe: Probe, shutdown: CancellationToken) -> anyhow::Result<()> {
    install();
    let Some(address) = listen_from_env()? else {
        return Ok(());
    };
    let listener = TcpListener::bind(address).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {address} (INFRAHAUS_WORKER_METRICS_LISTEN): {e}")
    })?;
    tracing::info!(%address, "serving /metrics and /ready");
    tokio::spawn(serve(listener, probe, shutdown.cancelled_owned()));
    Ok(())
}

/// Serves `/metrics` and `/ready` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    probe: Probe,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    install();
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/ready", get(ready))
        .with_state(probe);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Installs the recorder and describes the worker's metrics (once).
fn install() {
    backend::metrics::install();
    static DESCRIBED: std::sync::Once = std::sync::Once::new();
    DESCRIBED.call_once(describe);
}

/// The `# HELP` texts; the counters that may stay at zero for long are shown from the start.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "infrahaus_jobs_started_total",
        "Job deliveries this worker started."
    );
    describe_counter!(
        "infrahaus_jobs_finished_total",
        "Job deliveries ended: done (acked), retry (given back), interrupted (left at a checkpoint)."
    );
    describe_counter!(
        "infrahaus_jobs_taken_over_total",
        "Jobs taken over from a worker whose lease was gone."
    );
    describe_counter!(
        "infrahaus_containers_finished_total",
        "Containers that reached ready or failed."
    );
    describe_histogram!(
        "infrahaus_job_duration_seconds",
        Unit::Seconds,
        "How long one job delivery ran, by outcome."
    );
    describe_histogram!(
        "infrahaus_phase_duration_seconds",
        Unit::Seconds,
        "How long a pipeline phase ran (create, start, deploy, sync, finalize)."
    );
    describe_gauge!(
        "infrahaus_queue_depth",
        "Open jobs in the queue (waiting or running)."
    );
    describe_gauge!(
        "infrahaus_queue_pending",
        "Jobs handed to a worker and not acked yet."
    );
    describe_counter!(
        "infrahaus_ssh_connect_retries_total",
        "SSH connections retried after a refused or timed-out attempt."
    );
    describe_histogram!(
        "infrahaus_pve_request_duration_seconds",
        Unit::Seconds,
        "Proxmox VE API calls by method, endpoint and status."
    );
    for name in [
        "infrahaus_jobs_started_total",
        "infrahaus_jobs_taken_over_total",
        "infrahaus_ssh_connect_retries_total",
    ] {
        metrics::counter!(name).increment(0);
    }
}

async fn metrics(State(probe): State<Probe>) -> Response {
    backend::metrics::record_queue_stats(&probe.redis, &probe.queue).await;
    backend::metrics::exposition().into_response()
}

async fn ready(State(probe): State<Probe>) -> Response {
    match backend::metrics::readiness(&probe.db, &probe.redis)
        .await
        .away()
    {
        None => (StatusCode::OK, "ready").into_response(),
        // The server's error envelope, so one probe script reads both.
        Some(away) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({ "error": "unavailable", "message": away }).to_string(),
        )
            .into_response(),
    }
}

/// Runs `handle` for one delivery, counting it started, taken over and finished by outcome.
pub async fn observe_job<F, Fut>(run: JobRun, handle: F) -> JobOutcome
where
    F: FnOnce(JobRun) -> Fut,
    Fut: Future<Output = JobOutcome>,
{
    let started = Instant::now();
    metrics::counter!("infrahaus_jobs_started_total").increment(1);
    if run.taken_from.is_some() {
        metrics::counter!("infrahaus_jobs_taken_over_total").increment(1);
    }
    let outcome = handle(run).await;
    let label = match outcome {
        JobOutcome::Done => "done",
        JobOutcome::Retry => "retry",
        JobOutcome::Interrupted => "interrupted",
    };
    metrics::counter!("infrahaus_jobs_finished_total", "outcome" => label).increment(1);
    metrics::histogram!("infrahaus_job_duration_seconds", "outcome" => label)
        .record(started.elapsed().as_secs_f64());
    outcome
}

/// A container reached `ready` or `error`.
pub fn container_finished(ready: bool) {
    let result = if ready { "ready" } else { "failed" };
    metrics::counter!("infrahaus_containers_finished_total", "result" => result).increment(1);
}

/// Times one phase while it lives; records `infrahaus_phase_duration_seconds` when dropped
/// (finished, failed or stopped alike).
pub struct PhaseTimer {
    phase: Phase,
    started: Instant,
}

impl PhaseTimer {
    pub fn start(phase: Phase) -> Self {
        PhaseTimer {
            phase,
            started: Instant::now(),
        }
    }
}

impl Drop for PhaseTimer {
    fn drop(&mut self) {
        metrics::histogram!("infrahaus_phase_duration_seconds", "phase" => self.phase.to_string())
            .record(self.started.elapsed().as_secs_f64());
    }
}
