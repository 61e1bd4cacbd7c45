//! The job queue: a Redis stream read through one consumer group, shared by every worker on every
//! machine. Delivery is at least once: a job stays pending until a worker acks it, and a job
//! whose worker died is taken over by another worker once that worker's lease is gone
//! ([`Queue::take_over`]).
//!
//! # Keys (namespace `infrahaus`, see [`QueueKeys`])
//! - `infrahaus:jobs`: the stream; each entry has one field, `job`, holding a [`Job`] as JSON.
//!   `XADD … MAXLEN ~ 100000`; acked entries are deleted, so the stream holds only open jobs.
//! - `infrahaus:workers`: the consumer group (created from id `0` with `MKSTREAM`).
//! - `infrahaus:jobs:queued:{container_id}`: the stream id of that container's open job.
//! - `infrahaus:worker:{consumer}`: the lease of the worker process with that consumer name.
//! - `infrahaus:jobs:cancel:{container_id}`: the stream id of the job whose cancel a user asked
//!   for (deleted with the job's ack; a later job of the container has another id).
//!
//! # Liveness by lease
//! A worker process sets its lease (`SET … PX` [`LEASE_TTL`], 8 s) before it reads a job and
//! renews it every quarter of that (2 s) from a task that does nothing else (the same loop feeds
//! systemd's watchdog). Every [`SCAN_EVERY`] (1 s) each worker runs one script
//! ([`Queue::take_over`]) that lists the consumers with pending jobs (`XPENDING` summary) and
//! `XCLAIM`s the jobs of every consumer other than itself whose lease key does not exist,
//! raising their delivery count. So:
//! - a job is never taken over while its worker's lease lives, however long a phase runs;
//! - a worker killed outright (SIGKILL, power loss) loses its jobs 6–8 s after its last renewal
//!   (TTL minus the time since the last renewal), and they are taken over within the next second
//!   by any worker, including its own restarted process (a new consumer name): about 7–9 s from
//!   the kill to the takeover, plus the time to resume;
//! - a worker that stops on SIGTERM drops its lease on the way out: its interrupted jobs are
//!   taken over at the next scan (about 1 s);
//! - consumers without a lease key at all (workers from before leases) count as dead.
//!
//! A running job checks every second ([`Queue::check`]) that its consumer still holds it; a
//! worker whose lease lapsed while it lived (Redis unreachable for the whole TTL) finds its job
//! taken over and stops at its next checkpoint, so the job still runs from its checkpoint once
//! more, never twice at the same time past a checkpoint.
//!
//! # One job per container
//! A container's id is its job id. [`Queue::enqueue`] runs one Lua script that adds the entry only
//! if the marker key names no entry still in the stream, then points the marker at the new entry;
//! [`Queue::ack`] acks, deletes the entry and the marker in one script ([`Queue::ack_many`] does the
//! same for several entries in one call). So a container has at most
//! one open job (waiting, running, or failed and waiting to be reclaimed); once acked it may be
//! queued again. Because the marker is checked against the stream, a marker left behind (entry
//! trimmed) never blocks a later enqueue, and no expiry is needed. The scripts touch keys in
//! different hash slots: a single Redis server, not Redis Cluster.
//!
//! # Connections
//! [`Queue`] uses the process's shared multiplexed client and never blocks it. A blocking
//! `XREADGROUP` holds its connection until it returns, so [`Reader`] owns one more, dedicated
//! client and lets one read at a time run on it (a mutex): a worker process has the shared
//! connection and the reader's, whatever the number of consumers, and the read in flight takes a
//! new job at once. One read takes up to as many new jobs as the caller asks for
//! ([`Reader::next_batch`]).
//!
//! # Scripts
//! The Lua scripts run with `EVALSHA`: each is loaded (`SCRIPT LOAD`) the first time it is
//! needed and again when Redis answers `NOSCRIPT` (restarted, or `SCRIPT FLUSH`).
//!
//! # Retries
//! A job the worker could not work on (its database was away, the handler panicked) is not
//! acked: after a delay the worker hands it to the consumer [`RELEASED`], which never has a
//! lease ([`Queue::release`]), so the next scan of any worker delivers it again with a raised
//! count. A delivery past [`MAX_DELIVERIES`] reports [`Delivery::is_exhausted`]. The pipeline
//! counts from the attempt that last stored a checkpoint instead: a job is ended (the container
//! marked failed, the entry acked) after [`MAX_DELIVERIES`] attempts in a row that moved it no
//! further, so a worker restarted again and again for reasons of its own does not fail jobs that
//! progress each time, while a job that stops its worker at the same step every time is ended.
//!
//! [`Queue::reclaim`] (by idle time, `XAUTOCLAIM`) and [`Queue::touch`] remain for tools and
//! tests; workers no longer use idle time to decide a worker died.
//!
//! # Cancel
//! [`Queue::request_cancel`] removes a job never handed out (when the caller says nothing can
//! exist yet) or stores its entry id under the cancel key; the job's worker sees it at its next
//! check ([`Queue::check`]) and stops at its next checkpoint; a worker that takes the job over
//! checks before it starts. [`Queue::job_state`] tells the progress page whether a live worker
//! holds a job.

mod lease;
mod reader;
mod scripts;

pub use lease::{CancelRequest, Held, JobState, LEASE_TTL, RELEASED, SCAN_EVERY};
pub use reader::Reader;

use crate::redis::RedisClient;
use domain::ContainerId;
use fred::error::{Error as RedisError, ErrorKind};
use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand, Value};
use scripts::{ACK_MANY, ENQUEUE, RECLAIM};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Deliveries after which a job is given up, unless [`Queue::with_max_deliveries`] says otherwise.
pub const MAX_DELIVERIES: u64 = 5;

/// Most entries [`Queue::ack_many`] acks in one script call (longer lists take several calls).
const ACK_BATCH: usize = 512;

/// Approximate cap on the stream's length (open jobs only: acked entries are deleted).
pub const MAX_STREAM_LEN: u64 = 100_000;

/// A unit of work for a worker. Carries ids only, never secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub container_id: ContainerId,
}

/// A job handed to one consumer, until it acks it or another consumer reclaims it.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The stream entry id.
    pub entry_id: String,
    pub job: Job,
    /// How many times the job has been handed out, this time included.
    pub deliveries: u64,
    /// The consumer that holds it.
    pub consumer: String,
    /// The consumer it was taken over from, when its lease was gone (see [`Queue::take_over`]).
    pub taken_from: Option<String>,
    max_deliveries: u64,
}

impl Delivery {
    /// True when the job has been delivered more often than allowed: end it instead of running it.
    pub fn is_exhausted(&self) -> bool {
        self.deliveries > self.max_deliveries
    }

    /// Deliveries after which the job is given up (the queue's setting).
    pub fn max_deliveries(&self) -> u64 {
        self.max_deliveries
    }
}

/// What [`Queue::enqueue`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    Added,
    /// The container already had an open job; nothing was added.
    AlreadyQueued,
}

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("Redis unreachable: {0}")]
    Unreachable(String),
    #[error("Redis refused a queue command: {0}")]
    Redis(String),
    #[error("unexpected reply from Redis: {0}")]
    Reply(String),
}

impl From<RedisError> for QueueError {
    fn from(e: RedisError) -> Self {
        match e.kind() {
            ErrorKind::IO | ErrorKind::Timeout | ErrorKind::Canceled => {
                QueueError::Unreachable(e.to_string())
            }
            _ => QueueError::Redis(e.to_string()),
        }
    }
}

/// The Redis names the queue uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueKeys {
    namespace: String,
    pub stream: String,
    pub group: String,
    marker_prefix: String,
    /// Followed by a consumer name: that worker process's lease.
    pub lease_prefix: String,
    cancel_prefix: String,
}

impl QueueKeys {
    /// Names under `namespace` (`infrahaus` in production; tests use a unique one).
    pub fn namespaced(namespace: &str) -> Self {
        QueueKeys {
            namespace: namespace.to_owned(),
            stream: format!("{namespace}:jobs"),
            group: format!("{namespace}:workers"),
            marker_prefix: format!("{namespace}:jobs:queued:"),
            lease_prefix: format!("{namespace}:worker:"),
            cancel_prefix: format!("{namespace}:jobs:cancel:"),
        }
    }

    /// The prefix of every key (`infrahaus`); other Redis users of the worker share it.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The key holding the lease of the worker process whose consumer name is `consumer`.
    pub fn lease(&self, consumer: &str) -> String {
        format!("{}{consumer}", self.lease_prefix)
    }

    /// The key naming the entry of a container's job whose cancel was asked for.
    pub fn cancel(&self, container_id: ContainerId) -> String {
        format!("{}{container_id}", self.cancel_prefix)
    }

    /// The key naming the open job of a container.
    pub fn marker(&self, container_id: ContainerId) -> String {
        format!("{}{container_id}", self.marker_prefix)
    }
}

impl Default for QueueKeys {
    fn default() -> Self {
        QueueKeys::namespaced("infrahaus")
    }
}

/// The producer side and the non-blocking consumer operations, on the shared client.
#[derive(Clone)]
pub struct Queue {
    redis: RedisClient,
    keys: Arc<QueueKeys>,
    max_deliveries: u64,
}

impl Queue {
    /// The production queue on the shared client.
    pub fn new(redis: RedisClient) -> Self {
        Queue::with_keys(redis, QueueKeys::default())
    }

    pub fn with_keys(redis: RedisClient, keys: QueueKeys) -> Self {
        Queue {
            redis,
            keys: Arc::new(keys),
            max_deliveries: MAX_DELIVERIES,
        }
    }

    /// Deliveries after which [`Delivery::is_exhausted`] is true.
    pub fn with_max_deliveries(mut self, max: u64) -> Self {
        self.max_deliveries = max;
        self
    }

    pub fn keys(&self) -> &QueueKeys {
        &self.keys
    }

    /// Creates the stream and the consumer group if missing.
    pub async fn ensure_group(&self) -> Result<(), QueueError> {
        let created: Result<Value, RedisError> = self
            .redis
            .xgroup_create(&self.keys.stream, &self.keys.group, "0", true)
            .await;
        match created {
            Err(e) if e.details().starts_with("BUSYGROUP") => Ok(()),
            other => other.map(drop).map_err(Into::into),
        }
    }

    /// Queues a job for its container, unless that container already has an open job.
    pub async fn enqueue(&self, job: &Job) -> Result<Enqueued, QueueError> {
        let payload = serde_json::to_string(job).map_err(|e| QueueError::Reply(e.to_string()))?;
        let marker = self.keys.marker(job.container_id);
        let reply = self
            .eval(
                &ENQUEUE_SCRIPT,
                &[&self.keys.stream, &marker],
                vec![MAX_STREAM_LEN.to_string(), payload],
            )
            .await?
            .into_array();
        let added = reply.first().and_then(Value::as_i64);
        tracing::debug!(container.id = %job.container_id, ?added, "enqueue");
        match added {
            Some(1) => Ok(Enqueued::Added),
            Some(0) => Ok(Enqueued::AlreadyQueued),
            _ => Err(QueueError::Reply(format!("enqueue answered {reply:?}"))),
        }
    }

    /// Marks a job done: acks and deletes its entry and frees its container for a new job.
    /// Returns false when the entry was no longer pending (already acked).
    pub async fn ack(&self, delivery: &Delivery) -> Result<bool, QueueError> {
        let acked = self.ack_many(std::slice::from_ref(delivery)).await?;
        Ok(acked.first().copied().unwrap_or(false))
    }

    /// [`Queue::ack`] for several jobs in one script call (per [`ACK_BATCH`] entries), each with
    /// the same effect as its own ack. Returns, in order, whether each entry was still pending.
    pub async fn ack_many(&self, deliveries: &[Delivery]) -> Result<Vec<bool>, QueueError> {
        let mut acked = Vec::with_capacity(deliveries.len());
        for chunk in deliveries.chunks(ACK_BATCH) {
            let per_entry: Vec<String> = chunk
                .iter()
                .flat_map(|d| {
                    let id = d.job.container_id;
                    [self.keys.marker(id), self.keys.cancel(id)]
                })
                .collect();
            let mut keys: Vec<&str> = Vec::with_capacity(1 + per_entry.len());
            keys.push(&self.keys.stream);
            keys.extend(per_entry.iter().map(String::as_str));
            let mut args = Vec::with_capacity(1 + chunk.len());
            args.push(self.keys.group.clone());
            args.extend(chunk.iter().map(|d| d.entry_id.clone()));
            let reply = self.eval(&ACK_MANY_SCRIPT, &keys, args).await?;
            let counts = match reply {
                Value::Array(counts) => counts,
                other => return Err(QueueError::Reply(format!("ack answered {other:?}"))),
            };
            if counts.len() != chunk.len() {
                return Err(QueueError::Reply(format!(
                    "ack answered {} counts for {} entries",
                    counts.len(),
                    chunk.len()
                )));
            }
            acked.extend(counts.iter().map(|c| c.as_i64() == Some(1)));
        }
        Ok(acked)
    }

    /// Takes over at most `max` jobs that other consumers have held for at least `min_idle`
    /// without acking them (their worker died or is stuck). Each delivery's count is raised.
    pub async fn reclaim(
        &self,
        consumer: &str,
        min_idle: Duration,
        max: usize,
    ) -> Result<Vec<Delivery>, QueueError> {
        let mut found = Vec::new();
        let mut start = "0-0".to_owned();
        // XAUTOCLAIM scans at most ten times COUNT entries per call; a bounded number of calls
        // walks a long pending list without looping forever on a stream that keeps changing.
        for _ in 0..100 {
            if found.len() >= max {
                break;
            }
            let reply = self
                .eval(
                    &RECLAIM_SCRIPT,
                    &[&self.keys.stream],
                    vec![
                        self.keys.group.clone(),
                        consumer.to_owned(),
                        min_idle.as_millis().to_string(),
                        start,
                        (max - found.len()).to_string(),
                    ],
                )
                .await?;
            let mut items = reply.into_array().into_iter();
            start = items
                .next()
                .and_then(|v| v.as_string())
                .ok_or_else(|| QueueError::Reply("XAUTOCLAIM gave no cursor".into()))?;
            for item in items {
                let mut parts = item.into_array().into_iter();
                let (Some(id), Some(job), Some(count)) = (parts.next(), parts.next(), parts.next())
                else {
                    return Err(QueueError::Reply("malformed reclaim entry".into()));
                };
                let id = id.as_string().unwrap_or_default();
                let deliveries = count.as_u64().unwrap_or(0);
                let job = job.as_string().unwrap_or_default();
                if let Some(delivery) = self.delivery(id, &job, deliveries, consumer).await? {
                    found.push(delivery);
                }
            }
            if start == "0-0" {
                break;
            }
        }
        Ok(found)
    }

    /// Tells the queue `delivery`'s consumer is still working on it, so it is not reclaimed.
    /// Returns false when another consumer has taken the job over (stop working on it).
    pub async fn touch(&self, delivery: &Delivery) -> Result<bool, QueueError> {
        self.hand_over(delivery, &delivery.consumer).await
    }

    /// Builds a delivery; an entry whose payload is not a [`Job`] is acked and deleted.
    pub(super) async fn delivery(
        &self,
        entry_id: String,
        payload: &str,
        deliveries: u64,
        consumer: &str,
    ) -> Result<Option<Delivery>, QueueError> {
        match serde_json::from_str::<Job>(payload) {
            Ok(job) => Ok(Some(Delivery {
                entry_id,
                job,
                deliveries,
                consumer: consumer.to_owned(),
                taken_from: None,
                max_deliveries: self.max_deliveries,
            })),
            Err(e) => {
                tracing::error!(entry = %entry_id, error = %e, "dropping a malformed job");
                let _: Value = self
                    .redis
                    .xack(&self.keys.stream, &self.keys.group, &entry_id)
                    .await?;
                let _: Value = self.redis.xdel(&self.keys.stream, &entry_id).await?;
                Ok(None)
            }
        }
    }

    /// Runs `script` with EVALSHA, loading it first if this process has not yet, and again
    /// when Redis no longer has it.
    async fn eval(
        &self,
        script: &Script,
        keys: &[&str],
        args: Vec<String>,
    ) -> Result<Value, QueueError> {
        let mut argv: Vec<Value> = Vec::with_capacity(2 + keys.len() + args.len());
        argv.push(Value::Null); // the sha, set below
        argv.push(Value::Integer(keys.len() as i64));
        argv.extend(keys.iter().map(|k| Value::from(*k)));
        argv.extend(args.into_iter().map(Value::from));
        let sha = match script.sha.get() {
            Some(sha) => sha.clone(),
            None => self.load(script).await?,
        };
        argv[0] = sha.into();
        let evalsha = CustomCommand::new_static("EVALSHA", ClusterHash::Offset(2), false);
        match self.redis.custom(evalsha.clone(), argv.clone()).await {
            Err(e) if e.details().starts_with("NOSCRIPT") => {
                argv[0] = self.load(script).await?.into();
                Ok(self.redis.custom(evalsha, argv).await?)
            }
            other => Ok(other?),
        }
    }

    /// `SCRIPT LOAD`s `script` and remembers its sha.
    async fn load(&self, script: &Script) -> Result<String, QueueError> {
        let load = CustomCommand::new_static("SCRIPT", ClusterHash::Random, false);
        let sha = self
            .redis
            .custom::<Value, _>(load, vec!["LOAD", script.text])
            .await?
            .as_string()
            .ok_or_else(|| QueueError::Reply("SCRIPT LOAD gave no sha".into()))?;
        // Same text, same sha: a concurrent load that won the race stored the same value.
        let _ = script.sha.set(sha.clone());
        Ok(sha)
    }
}

/// A Lua script and its sha once loaded (the sha depends on the text only).
struct Script {
    text: &'static str,
    sha: OnceLock<String>,
}

impl Script {
    const fn new(text: &'static str) -> Self {
        Script {
            text,
            sha: OnceLock::new(),
        }
    }
}

static ENQUEUE_SCRIPT: Script = Script::new(ENQUEUE);
static ACK_MANY_SCRIPT: Script = Script::new(ACK_MANY);
static RECLAIM_SCRIPT: Script = Script::new(RECLAIM);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_read_as_unreachable() {
        for kind in [ErrorKind::IO, ErrorKind::Timeout, ErrorKind::Canceled] {
            let error = QueueError::from(RedisError::new(kind, "connection refused"));
            assert!(matches!(error, QueueError::Unreachable(_)), "{error:?}");
            assert!(error.to_string().starts_with("Redis unreachable"));
        }
        let refused = QueueError::from(RedisError::new(ErrorKind::Unknown, "WRONGTYPE"));
        assert!(matches!(refused, QueueError::Redis(_)));
    }

    #[test]
    fn keys_live_under_the_namespace() {
        let keys = QueueKeys::default();
        assert_eq!(
            (keys.stream.as_str(), keys.group.as_str()),
            ("infrahaus:jobs", "infrahaus:workers")
        );
        let id = ContainerId::new_random();
        assert_eq!(keys.marker(id), format!("infrahaus:jobs:queued:{id}"));
    }
}
