//! Liveness by lease: each worker process keeps a short-lived key; the jobs of a consumer whose
//! key is gone are taken over at once ([`Queue::take_over`]). Also where a job stands for the
//! progress page ([`Queue::job_state`]) and cancel requests ([`Queue::request_cancel`]).

use super::scripts::{CANCEL, CHECK, JOB_STATE, RELEASE, TAKE_OVER};
use super::{Delivery, Queue, QueueError, Script};
use domain::ContainerId;
use fred::prelude::*;
use fred::types::{Expiration, Value};
use std::time::Duration;

/// How long a worker's lease lives unless renewed. Workers renew it every quarter of this.
pub const LEASE_TTL: Duration = Duration::from_secs(8);

/// How often a worker looks for jobs of consumers whose lease is gone.
pub const SCAN_EVERY: Duration = Duration::from_secs(1);

/// The consumer a job is handed to when its worker gives it back ([`Queue::release`]): it
/// never has a lease, so the next takeover scan of any worker delivers the job again.
pub const RELEASED: &str = "released";

/// Where a container's open job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// The container has no open job.
    None,
    /// Queued and not yet handed to a worker.
    Waiting,
    /// Its worker stopped (lease gone) or gave it back; the next scan hands it out again.
    Orphaned,
    /// A live worker holds it.
    Running,
}

/// What a running job's worker learns from [`Queue::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// Another consumer took the job over, or it is gone.
    Lost,
    Held,
    /// Still held, and a cancel was asked for.
    CancelRequested,
}

/// What [`Queue::request_cancel`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelRequest {
    /// The container has no open job.
    NoJob,
    /// The job was never handed out and was removed from the queue.
    Removed,
    /// The cancel is stored; the job's worker (or whoever takes it over) honours it.
    Stored,
}

static TAKE_OVER_SCRIPT: Script = Script::new(TAKE_OVER);
static RELEASE_SCRIPT: Script = Script::new(RELEASE);
static CHECK_SCRIPT: Script = Script::new(CHECK);
static JOB_STATE_SCRIPT: Script = Script::new(JOB_STATE);
static CANCEL_SCRIPT: Script = Script::new(CANCEL);

impl Queue {
    /// Sets or renews `consumer`'s lease for `ttl`.
    pub async fn renew_lease(&self, consumer: &str, ttl: Duration) -> Result<(), QueueError> {
        let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let _: Value = self
            .redis
            .set(
                self.keys.lease(consumer),
                "live",
                Some(Expiration::PX(ms)),
                None,
                false,
            )
            .await?;
        Ok(())
    }

    /// Ends `consumer`'s lease now: its pending jobs are taken over at the next scan.
    pub async fn drop_lease(&self, consumer: &str) -> Result<(), QueueError> {
        let _: Value = self.redis.del(self.keys.lease(consumer)).await?;
        Ok(())
    }

    /// Takes over at most `max` jobs held by consumers without a lease (their worker died, or
    /// the job was [released](Queue::release)). Each delivery's count is raised.
    pub async fn take_over(&self, me: &str, max: usize) -> Result<Vec<Delivery>, QueueError> {
        let reply = self
            .eval(
                &TAKE_OVER_SCRIPT,
                &[&self.keys.stream],
                vec![
                    self.keys.group.clone(),
                    me.to_owned(),
                    self.keys.lease_prefix.clone(),
                    max.max(1).to_string(),
                ],
            )
            .await?;
        let mut found = Vec::new();
        for item in reply.into_array() {
            let mut parts = item.into_array().into_iter();
            let (Some(id), Some(job), Some(count), Some(owner)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(QueueError::Reply("malformed takeover entry".into()));
            };
            let id = id.as_string().unwrap_or_default();
            let job = job.as_string().unwrap_or_default();
            let deliveries = count.as_u64().unwrap_or(0);
            if let Some(mut delivery) = self.delivery(id, &job, deliveries, me).await? {
                let owner = owner.as_string().unwrap_or_default();
                delivery.taken_from = (owner != RELEASED).then_some(owner);
                found.push(delivery);
            }
        }
        Ok(found)
    }

    /// Gives a held job back without acking it: any worker's next scan delivers it again (with
    /// a raised count). False when `delivery`'s consumer no longer held it.
    pub async fn release(&self, delivery: &Delivery) -> Result<bool, QueueError> {
        self.hand_over(delivery, RELEASED).await
    }

    /// Moves a held entry to consumer `to`, keeping its count; false unless
    /// `delivery`'s consumer held it.
    pub(super) async fn hand_over(
        &self,
        delivery: &Delivery,
        to: &str,
    ) -> Result<bool, QueueError> {
        let moved = self
            .eval(
                &RELEASE_SCRIPT,
                &[&self.keys.stream],
                vec![
                    self.keys.group.clone(),
                    delivery.consumer.clone(),
                    delivery.entry_id.clone(),
                    to.to_owned(),
                ],
            )
            .await?;
        Ok(moved.as_i64() == Some(1))
    }

    /// Whether `delivery`'s consumer still holds it, and whether its cancel was asked for.
    pub async fn check(&self, delivery: &Delivery) -> Result<Held, QueueError> {
        let cancel = self.keys.cancel(delivery.job.container_id);
        let held = self
            .eval(
                &CHECK_SCRIPT,
                &[&self.keys.stream, &cancel],
                vec![
                    self.keys.group.clone(),
                    delivery.consumer.clone(),
                    delivery.entry_id.clone(),
                ],
            )
            .await?;
        Ok(match held.as_i64() {
            Some(2) => Held::CancelRequested,
            Some(1) => Held::Held,
            _ => Held::Lost,
        })
    }

    /// Where the open job of `container_id` stands.
    pub async fn job_state(&self, container_id: ContainerId) -> Result<JobState, QueueError> {
        let marker = self.keys.marker(container_id);
        let state = self
            .eval(
                &JOB_STATE_SCRIPT,
                &[&self.keys.stream, &marker],
                vec![self.keys.group.clone(), self.keys.lease_prefix.clone()],
            )
            .await?;
        Ok(match state.as_i64() {
            Some(1) => JobState::Waiting,
            Some(2) => JobState::Orphaned,
            Some(3) => JobState::Running,
            _ => JobState::None,
        })
    }

    /// Asks for the open job of `container_id` to stop. With `may_remove`, a job never handed
    /// out is removed from the queue instead (the caller then settles the container itself).
    pub async fn request_cancel(
        &self,
        container_id: ContainerId,
        may_remove: bool,
    ) -> Result<CancelRequest, QueueError> {
        let marker = self.keys.marker(container_id);
        let cancel = self.keys.cancel(container_id);
        let done = self
            .eval(
                &CANCEL_SCRIPT,
                &[&self.keys.stream, &marker, &cancel],
                vec![
                    self.keys.group.clone(),
                    if may_remove { "1" } else { "0" }.to_owned(),
                ],
            )
            .await?;
        match done.as_i64() {
            Some(0) => Ok(CancelRequest::NoJob),
            Some(1) => Ok(CancelRequest::Removed),
            Some(2) => Ok(CancelRequest::Stored),
            _ => Err(QueueError::Reply(format!("cancel answered {done:?}"))),
        }
    }
}
