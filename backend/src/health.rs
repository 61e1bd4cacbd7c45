//! Service-health checks between the server and the workers, in Redis: the server asks, a
//! worker checks the container over SSH (the server holds no key a container or node trusts)
//! and stores the report, the page reads it.
//!
//! # Keys (under the queue's namespace, `infrahaus`)
//! - `infrahaus:health:requests`: a list of [`HealthRequest`]s as JSON; workers take them with
//!   `BRPOP` on a connection of their own.
//! - `infrahaus:health:pending:{container_id}`: set (`NX`, [`PENDING_TTL`]) when a check is asked
//!   for and deleted when its report is stored, so many open pages and clicks ask once. A
//!   request whose worker died mid-check lapses with the key, and the next ask queues it again.
//! - `infrahaus:health:report:{container_id}`: the last [`HealthReport`] as JSON, kept
//!   [`REPORT_TTL`].
//!
//! A worker waits for requests on one more Redis connection of its own (besides the shared one
//! and the job reader's), since a blocked `BRPOP` holds its connection.

use crate::redis::RedisClient;
use domain::ContainerId;
use domain::health::{HealthReport, HealthView};
use fred::prelude::*;
use fred::types::config::Options;
use fred::types::{ClusterHash, CustomCommand, Expiration, SetOptions, Value};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a check may stay asked for before it is asked again.
pub const PENDING_TTL: Duration = Duration::from_secs(60);
/// How long a report is kept.
pub const REPORT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// A check a worker should run. Carries the id only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthRequest {
    pub container_id: ContainerId,
}

/// What [`HealthChecks::request`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requested {
    Queued,
    /// A check of that container was already asked for and has not been answered yet.
    AlreadyPending,
}

/// The health keys of one namespace on a client.
#[derive(Clone)]
pub struct HealthChecks {
    redis: RedisClient,
    namespace: String,
}

impl HealthChecks {
    /// Under `namespace`: the job queue's ([`crate::queue::QueueKeys::namespace`]).
    pub fn new(redis: RedisClient, namespace: &str) -> Self {
        HealthChecks {
            redis,
            namespace: namespace.to_owned(),
        }
    }

    fn requests_key(&self) -> String {
        format!("{}:health:requests", self.namespace)
    }

    fn pending_key(&self, id: ContainerId) -> String {
        format!("{}:health:pending:{id}", self.namespace)
    }

    fn report_key(&self, id: ContainerId) -> String {
        format!("{}:health:report:{id}", self.namespace)
    }

    /// Asks the workers for a check of `id`, unless one is pending.
    pub async fn request(&self, id: ContainerId) -> Result<Requested, fred::error::Error> {
        let set: Option<String> = self
            .redis
            .set(
                self.pending_key(id),
                chrono::Utc::now().timestamp(),
                Some(Expiration::EX(PENDING_TTL.as_secs() as i64)),
                Some(SetOptions::NX),
                false,
            )
            .await?;
        if set.is_none() {
            return Ok(Requested::AlreadyPending);
        }
        let request = serde_json::to_string(&HealthRequest { container_id: id })
            .expect("a request serializes");
        let _: i64 = self.redis.lpush(self.requests_key(), request).await?;
        Ok(Requested::Queued)
    }

    /// The next request, waiting up to `block` on `dedicated` (a client nothing else uses: the
    /// wait holds its connection). Malformed entries are skipped.
    pub async fn next(
        &self,
        dedicated: &RedisClient,
        block: Duration,
    ) -> Result<Option<HealthRequest>, fred::error::Error> {
        let options = Options {
            timeout: Some(block + Duration::from_secs(10)),
            ..Options::default()
        };
        // As a custom command: fred's `brpop` turns the nil reply of a wait that found nothing
        // into a "Request timed out" error, indistinguishable from a real time-out, and the
        // worker logged it as a failure every 5 s while idle.
        let brpop = CustomCommand::new_static("BRPOP", ClusterHash::FirstKey, true);
        let args = vec![
            Value::from(self.requests_key()),
            Value::from(block.as_secs_f64()),
        ];
        let reply: Value = dedicated.with_options(&options).custom(brpop, args).await?;
        let popped: Option<(String, String)> = reply.convert()?;
        Ok(
            popped.and_then(|(_, payload)| match serde_json::from_str(&payload) {
                Ok(request) => Some(request),
                Err(e) => {
                    tracing::error!(error = %e, "dropping a malformed health request");
                    None
                }
            }),
        )
    }

    /// Stores the report of a check of `id` and ends its pending state.
    pub async fn store(
        &self,
        id: ContainerId,
        report: &HealthReport,
    ) -> Result<(), fred::error::Error> {
        let json = serde_json::to_string(report).expect("a report serializes");
        let _: () = self
            .redis
            .set(
                self.report_key(id),
                json,
                Some(Expiration::EX(REPORT_TTL.as_secs() as i64)),
                None,
                false,
            )
            .await?;
        self.finish(id).await
    }

    /// Ends the pending state of `id` without a report (the container is gone or not ready).
    pub async fn finish(&self, id: ContainerId) -> Result<(), fred::error::Error> {
        let _: i64 = self.redis.del(self.pending_key(id)).await?;
        Ok(())
    }

    /// The last report of `id`, whether a check is pending, and the report's age by `now`.
    pub async fn view(
        &self,
        id: ContainerId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<HealthView, fred::error::Error> {
        // Pending first: a check stores its report before it ends the pending state, so a
        // report read after "not pending" is never older than the check that just ended (read
        // the other way round, a check finishing between the two reads showed the report before
        // it as current).
        let pending: i64 = self.redis.exists(self.pending_key(id)).await?;
        let report: Option<String> = self.redis.get(self.report_key(id)).await?;
        let report = report.and_then(|json| match serde_json::from_str::<HealthReport>(&json) {
            Ok(report) => Some(report),
            Err(e) => {
                tracing::warn!(container.id = %id, error = %e, "ignoring an unreadable health report");
                None
            }
        });
        let age_secs = report
            .as_ref()
            .map(|r| u64::try_from(now.timestamp() - r.checked_at).unwrap_or(0));
        Ok(HealthView {
            report,
            age_secs,
            checking: pending > 0,
        })
    }
}
