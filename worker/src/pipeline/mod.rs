//! The creation pipeline: [`Pipeline`] turns a queued job into a running, configured container
//! in five phases (create, start, deploy, sync, finalize), checkpointing each in PostgreSQL.
//!
//! # Layout
//! - [`checkpoint`]: what is stored after each phase and each script.
//! - [`failure`]: failures for the user, stops at a checkpoint, and the worker's own failures.
//! - `job`: one run's state and the helpers the phases share (events, checkpoints).
//! - `create`, `start`, `deploy`, `sync`, `finalize`: the phases; `task` waits for Proxmox
//!   tasks, `connect` reaches the container (directly or through the node with `pct`),
//!   `identity` keeps the container's own SSH key and reads its host keys through the node.
//! - [`config_manager`], [`packages`], [`services`]: what is installed, how packages are
//!   installed, how services are recognised.
//! - `output`: running a command with its output streamed into the events.
//!
//! # Secrets
//! The root password is opened only for the create call and erased from the row once the
//! container exists; it and every credential value are registered with the event sink's
//! redactor (and the error message's) before anything could print them.
//!
//! # SSH identities
//! The node key (the worker's key file) is trusted by the Proxmox nodes and used only toward
//! them. Each container gets a key pair of its own, created before the create call and stored
//! sealed in its row; only its public half goes to Proxmox and is ever printed.

pub mod checkpoint;
pub mod failure;

pub mod config_manager;
pub mod packages;
pub mod services;

mod cancel;
mod connect;
mod create;
mod deploy;
mod finalize;
mod identity;
mod job;
mod output;
mod start;
mod sync;
mod task;

pub use job::job_tag;

use std::time::Duration;

use backend::crypto::SecretBox;
use backend::db::DbPool;
use backend::events::{EventSink, Redactor, SinkConfig};
use backend::models::ContainerRow;
use backend::redis::RedisClient;
use domain::ContainerId;
use remote_shell::{DeployKey, RetryPolicy};
use tracing::Instrument;

use crate::runner::{JobHandler, JobOutcome, JobRun, StopReason};
use failure::{Failure, InfraExt};

/// Limits and addresses the pipeline uses; the defaults suit a real Proxmox node.
#[derive(Clone, Debug)]
pub struct PipelineSettings {
    /// The port containers' sshd listens on.
    pub container_ssh_port: u16,
    /// Waits between attempts to reach a new container's sshd.
    pub ssh_retry: RetryPolicy,
    /// Waits between attempts to reach the node's sshd (the `pct` fallback).
    pub node_ssh_retry: RetryPolicy,
    /// Limit for one SSH connection attempt.
    pub ssh_connect_timeout: Duration,
    /// How often a Proxmox task's status and log are read.
    pub task_poll: Duration,
    /// Longest wait for a Proxmox task.
    pub task_timeout: Duration,
    /// How often `/interfaces` is read while waiting for a DHCP address.
    pub dhcp_poll: Duration,
    /// Longest wait for a DHCP address.
    pub dhcp_timeout: Duration,
    /// Longest run of one package installation or script.
    pub command_timeout: Duration,
    /// Batching of log events.
    pub sink: SinkConfig,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            container_ssh_port: 22,
            ssh_retry: RetryPolicy::default(),
            node_ssh_retry: RetryPolicy::exponential(Duration::from_secs(1), 2),
            ssh_connect_timeout: Duration::from_secs(10),
            task_poll: Duration::from_secs(1),
            task_timeout: Duration::from_secs(600),
            dhcp_poll: Duration::from_secs(2),
            dhcp_timeout: Duration::from_secs(120),
            command_timeout: Duration::from_secs(1800),
            sink: SinkConfig::default(),
        }
    }
}

/// What the pipeline needs from the process: database, Redis, the key for secrets at rest and
/// the worker's node key (for node SSH only).
#[derive(Clone)]
pub struct Pipeline {
    db: DbPool,
    redis: RedisClient,
    secrets: SecretBox,
    node_key: DeployKey,
    settings: PipelineSettings,
}

impl Pipeline {
    pub fn new(
        db: DbPool,
        redis: RedisClient,
        secrets: SecretBox,
        node_key: DeployKey,
        settings: PipelineSettings,
    ) -> Self {
        Pipeline {
            db,
            redis,
            secrets,
            node_key,
            settings,
        }
    }

    /// Runs one delivery of a container's job to its end or to a checkpoint.
    pub async fn handle(&self, run: JobRun) -> JobOutcome {
        let id = run.job.container_id;
        let row = match self.load(id).await {
            Ok(Some(row)) => row,
            Ok(None) => {
                tracing::info!("the container no longer exists; nothing to do");
                return JobOutcome::Done;
            }
            Err(e) => {
                tracing::warn!(error = ?e, "cannot read the container; retrying later");
                return JobOutcome::Retry;
            }
        };
        if !row.lifecycle.is_running_a_job() {
            tracing::info!(lifecycle = %row.lifecycle, "the container is not being created or updated; nothing to do");
            return JobOutcome::Done;
        }
        let sink = match EventSink::open(
            self.db.clone(),
            self.redis.clone(),
            id,
            self.settings.sink.clone(),
        )
        .await
        {
            Ok(sink) => sink,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the progress events; retrying later");
                return JobOutcome::Retry;
            }
        };
        let span = tracing::info_span!("pipeline", vmid = row.vmid.get(), hostname = %row.hostname, node = tracing::field::Empty);
        if let Some(from) = &run.taken_from {
            let resume = checkpoint::Checkpoint::from_json(&row.checkpoint).resume_point();
            tracing::info!(from = %from, %resume, "resuming a job whose worker stopped");
            let note = format!("The worker stopped; resuming from {resume}.");
            if let Err(e) = sink.log(domain::event::LogStream::Stdout, &note).await {
                tracing::warn!(error = %e, "could not store the takeover event");
            }
        }
        let mut redactor = Redactor::default();
        let result = if run.stop.requested() == Some(StopReason::Cancelled) {
            Err(Failure::Stopped(StopReason::Cancelled))
        } else if let Some(stalled) =
            run.stalled(checkpoint::Checkpoint::from_json(&row.checkpoint).advanced_in)
        {
            Err(Failure::failed(format!(
                "Gave up after {stalled} attempts in a row that did not get past the same step: \
                 the worker handling this container stopped each time before it finished (see \
                 the worker's log). Press Retry to try again."
            )))
        } else {
            match row.spec() {
                Ok(spec) => {
                    job::Job::new(
                        self,
                        row.clone(),
                        spec,
                        &sink,
                        &mut redactor,
                        run.stop.clone(),
                        run.attempt,
                    )
                    .run()
                    .instrument(span.clone())
                    .await
                }
                Err(e) => Err(Failure::failed(format!(
                    "The stored configuration of this container could not be read ({e}). Delete \
                     it and create it again."
                ))),
            }
        };
        let outcome = match result {
            Ok(()) => {
                crate::metrics::container_finished(true);
                JobOutcome::Done
            }
            Err(Failure::Failed(message)) => {
                let message = redactor.apply(&message).into_owned();
                self.fail(&sink, &message).instrument(span).await
            }
            Err(Failure::Stopped(StopReason::Cancelled)) => {
                self.finish_cancelled(&row, &sink).instrument(span).await
            }
            Err(Failure::Stopped(reason)) => {
                if reason == StopReason::Shutdown {
                    let _ = sink
                        .log(
                            domain::event::LogStream::Stdout,
                            "This worker is shutting down; another worker continues after the \
                             last finished step.",
                        )
                        .await;
                }
                tracing::info!(?reason, "stopped at a checkpoint");
                JobOutcome::Interrupted
            }
            Err(Failure::Infra(message)) => {
                tracing::error!(error = %redactor.apply(&message), "the worker's own services failed; the job will be retried");
                JobOutcome::Retry
            }
        };
        if let Err(e) = sink.close().await {
            tracing::warn!(error = %e, "could not store the last progress events");
        }
        outcome
    }

    async fn load(&self, id: ContainerId) -> Result<Option<ContainerRow>, Failure> {
        let mut conn = self.db.get().await.infra("database pool")?;
        match ContainerRow::find(&mut conn, id).await {
            Ok(row) => Ok(Some(row)),
            Err(diesel::result::Error::NotFound) => Ok(None),
            Err(e) => Err(Failure::Infra(e.to_string())),
        }
    }

    /// The error event with lifecycle `error`; retried later if the database is unreachable.
    async fn fail(&self, sink: &EventSink, message: &str) -> JobOutcome {
        tracing::warn!(error = %message, "container creation failed");
        match sink.error(message).await {
            Ok(()) => {
                crate::metrics::container_finished(false);
                JobOutcome::Done
            }
            Err(e) => {
                tracing::error!(error = ?e, "could not record the failure; retrying later");
                JobOutcome::Retry
            }
        }
    }
}

impl JobHandler for Pipeline {
    fn run(&self, run: JobRun) -> impl std::future::Future<Output = JobOutcome> + Send {
        crate::metrics::observe_job(run, |run| self.handle(run))
    }
}
