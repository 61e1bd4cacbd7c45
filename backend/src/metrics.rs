//! Prometheus metrics and readiness checks, shared by the server and the worker.
//!
//! Each process installs one recorder ([`install`]); code anywhere records through the `metrics`
//! facade (`metrics::counter!("infrahaus_…")`), and the process serves [`render`]'s text from an
//! axum route of its own (no listener of the exporter's). Every name starts with `infrahaus_`;
//! every histogram is in seconds with the buckets of [`BUCKETS`], but the progress fan-out's,
//! which has the finer [`FANOUT_BUCKETS`].
//!
//! [`readiness`] asks PostgreSQL and Redis, each within [`READY_TIMEOUT`], for the `/ready`
//! routes of both processes.

use std::sync::OnceLock;
use std::time::Duration;

use fred::prelude::*;
use fred::types::Value;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::db::DbPool;
use crate::queue::QueueKeys;
use crate::redis::{RedisClient, RedisError};

/// Upper bounds (seconds) of every histogram's buckets: from a quick request to a long deploy.
pub const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0,
];

/// The progress fan-out histogram's name and bucket bounds (seconds): a live event should reach
/// every stream within milliseconds.
pub const FANOUT_METRIC: &str = "infrahaus_progress_fanout_seconds";
pub const FANOUT_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.05, 0.1, 0.25, 1.0,
];

/// How long `/ready` waits for each of PostgreSQL and Redis.
pub const READY_TIMEOUT: Duration = Duration::from_secs(1);

/// How often histogram samples are folded into their buckets between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs this process's recorder on first call (later calls return the same one) and, inside
/// a tokio runtime, keeps it folded every few seconds so memory stays flat without scrapes.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("the bucket list is not empty")
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(FANOUT_METRIC.to_owned()),
                FANOUT_BUCKETS,
            )
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder was installed first; /metrics stays empty");
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let upkeep = handle.clone();
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(UPKEEP_EVERY);
                loop {
                    tick.tick().await;
                    upkeep.run_upkeep();
                }
            });
        }
        handle
    })
}

/// Everything recorded so far, in the Prometheus text format (`# HELP` and `# TYPE` included).
pub fn render() -> String {
    install().render()
}

/// The `Content-Type` of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// [`render`]'s text with its `Content-Type` header, as an axum handler answers it.
pub fn exposition() -> ([(&'static str, &'static str); 1], String) {
    ([("content-type", CONTENT_TYPE)], render())
}

/// Which dependencies answered a readiness check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub database: bool,
    pub redis: bool,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.database && self.redis
    }

    /// What is away, for a person: `None` when both answered.
    pub fn away(&self) -> Option<String> {
        match (self.database, self.redis) {
            (true, true) => None,
            (false, true) => Some("PostgreSQL is not answering.".into()),
            (true, false) => Some("Redis is not answering.".into()),
            (false, false) => Some("PostgreSQL and Redis are not answering.".into()),
        }
    }
}

/// Asks PostgreSQL (`SELECT 1` on a pooled connection) and Redis (`PING`) at the same time, each
/// within [`READY_TIMEOUT`].
pub async fn readiness(db: &DbPool, redis: &RedisClient) -> Readiness {
    let database = async {
        use diesel_async::RunQueryDsl;
        let mut conn = db.get().await.ok()?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.ok()
    };
    let ping = async { redis.ping::<String>(None).await.ok() };
    let (database, ping) = tokio::join!(
        tokio::time::timeout(READY_TIMEOUT, database),
        tokio::time::timeout(READY_TIMEOUT, ping),
    );
    Readiness {
        database: matches!(database, Ok(Some(_))),
        redis: matches!(ping, Ok(Some(_))),
    }
}

/// The job queue as Prometheus sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueStats {
    /// Open jobs: the stream holds only those (acked entries are deleted).
    pub depth: u64,
    /// Jobs handed to a worker and not acked yet.
    pub pending: u64,
}

/// `XLEN` and the `XPENDING` summary of the queue's stream.
pub async fn queue_stats(redis: &RedisClient, keys: &QueueKeys) -> Result<QueueStats, RedisError> {
    let depth: u64 = redis.xlen(keys.stream.as_str()).await?;
    let summary: Result<Value, RedisError> = redis
        .xpending(keys.stream.as_str(), keys.group.as_str(), ())
        .await;
    let pending = match summary {
        Ok(Value::Array(fields)) => fields.first().and_then(Value::as_u64).unwrap_or(0),
        Ok(_) => 0,
        // No consumer group yet: nothing was handed out.
        Err(e) if e.details().starts_with("NOGROUP") => 0,
        Err(e) => return Err(e),
    };
    Ok(QueueStats { depth, pending })
}

/// Records `queue_stats` as the gauges `infrahaus_queue_depth` and `infrahaus_queue_pending`.
pub async fn record_queue_stats(redis: &RedisClient, keys: &QueueKeys) {
    match queue_stats(redis, keys).await {
        Ok(stats) => {
            metrics::gauge!("infrahaus_queue_depth").set(stats.depth as f64);
            metrics::gauge!("infrahaus_queue_pending").set(stats.pending as f64);
        }
        Err(e) => tracing::debug!(error = %e, "could not read the queue's size"),
    }
}
