//! [`Job`]: one run of the pipeline for one container, and the helpers every phase uses.

use backend::db::DbConn;
use backend::events::{EventSink, Redactor};
use backend::models::{ContainerRow, NodeRow};
use domain::ContainerId;
use domain::container::Phase;
use domain::event::LogStream;
use domain::spec::ContainerSpec;
use pve_client::PveClient;
use remote_shell::{AnyTarget, RemoteTarget};
use tracing::Instrument;

use super::Pipeline;
use super::checkpoint::Checkpoint;
use super::failure::{Failure, InfraExt};
use crate::runner::StopSignal;

/// The Proxmox tag that marks a container as created by this job: `ih-` and the container id
/// without dashes.
pub fn job_tag(id: ContainerId) -> String {
    format!("ih-{}", id.0.simple())
}

/// One run of the pipeline.
pub(super) struct Job<'a> {
    pub deps: &'a Pipeline,
    pub id: ContainerId,
    pub row: ContainerRow,
    pub spec: ContainerSpec,
    pub sink: &'a EventSink,
    /// Secrets to hide in the error message stored on the row (the sink has its own).
    pub redactor: &'a mut Redactor,
    pub checkpoint: Checkpoint,
    /// This delivery's number, stored with each checkpoint it moves forward.
    pub attempt: u64,
    pub stop: StopSignal,
    /// Set once the node's row and API client are loaded.
    pub node: Option<(NodeRow, PveClient, String)>,
    /// The container's IPv4 address, once known.
    pub ip: Option<String>,
    /// The open connection into the container, once deploy has made one.
    pub target: Option<AnyTarget>,
}

impl<'a> Job<'a> {
    pub fn new(
        deps: &'a Pipeline,
        row: ContainerRow,
        spec: ContainerSpec,
        sink: &'a EventSink,
        redactor: &'a mut Redactor,
        stop: StopSignal,
        attempt: u64,
    ) -> Self {
        Job {
            deps,
            id: row.id,
            checkpoint: Checkpoint::from_json(&row.checkpoint),
            attempt,
            ip: row.ip_address.clone(),
            spec,
            row,
            sink,
            redactor,
            stop,
            node: None,
            target: None,
        }
    }

    /// Runs the phases that have not finished yet; the SSH session is closed whatever the result.
    pub async fn run(mut self) -> Result<(), Failure> {
        let result = self.phases().await;
        if let Some(target) = self.target.take() {
            close(&target).await;
        }
        result
    }

    async fn phases(&mut self) -> Result<(), Failure> {
        if self.checkpoint.done.is_some() {
            tracing::info!(checkpoint = ?self.checkpoint, "resuming after the last checkpoint");
        }
        self.connect_node().await?;
        for phase in Phase::ALL.iter().copied() {
            if self.checkpoint.is_done(phase) {
                continue;
            }
            let span = tracing::info_span!("phase", phase = %phase);
            let _timer = crate::metrics::PhaseTimer::start(phase);
            async {
                match phase {
                    Phase::Create => self.create().await,
                    Phase::Start => self.start().await,
                    Phase::Deploy => self.deploy().await,
                    Phase::Sync => self.sync().await,
                    Phase::Finalize => self.finalize().await,
                }
            }
            .instrument(span)
            .await?;
            if phase != Phase::Finalize {
                self.checkpoint.done = Some(phase);
                self.save_checkpoint().await?;
            }
        }
        // Also reached when a worker died between the last checkpoint and `ready`.
        self.checkpoint.done = Some(Phase::Finalize);
        self.finish().await
    }

    /// Loads the node and resolves its name in Proxmox (the same session the server's calls use).
    async fn connect_node(&mut self) -> Result<(), Failure> {
        use backend::services::nodes::{NodeError, NodeSession};
        let session = NodeSession::open(&self.deps.db, &self.deps.secrets, self.row.node_id)
            .await
            .map_err(|e| match e {
                NodeError::Unregistered => Failure::failed(
                    "The Proxmox node of this container was removed from Settings. Add it again, \
                     then press Retry.",
                ),
                NodeError::Service(e) => Failure::Infra(e.to_string()),
                other => Failure::failed(format!("{other} Then press Retry.")),
            })?;
        tracing::Span::current().record("node", session.row.name.as_str());
        self.node = Some((session.row, session.client, session.pve_node));
        Ok(())
    }

    pub fn pve(&self) -> &PveClient {
        &self.node.as_ref().expect("node loaded first").1
    }

    pub fn node_row(&self) -> &NodeRow {
        &self.node.as_ref().expect("node loaded first").0
    }

    /// The node's name in Proxmox paths.
    pub fn pve_node(&self) -> &str {
        &self.node.as_ref().expect("node loaded first").2
    }

    pub fn vmid(&self) -> u32 {
        self.spec.vmid.get()
    }

    pub async fn conn(&self) -> Result<DbConn, Failure> {
        self.deps.db.get().await.infra("database pool")
    }

    pub async fn step(&self, phase: Phase, percent: u8, message: &str) -> Result<(), Failure> {
        tracing::info!(%phase, percent, "{message}");
        Ok(self.sink.step(phase, percent, message).await?)
    }

    pub async fn log(&self, line: &str) -> Result<(), Failure> {
        Ok(self.sink.log(LogStream::Stdout, line).await?)
    }

    /// Hides `secret` in events and in the stored error message.
    pub fn redact(&mut self, secret: &str) {
        self.sink.redact(secret);
        self.redactor.add(secret);
    }

    /// Stores the checkpoint, then stops if asked to.
    pub async fn save_checkpoint(&mut self) -> Result<(), Failure> {
        self.checkpoint.advanced_in = self.attempt;
        let mut conn = self.conn().await?;
        ContainerRow::set_checkpoint(&mut conn, self.id, &self.checkpoint.to_json())
            .await
            .infra("storing the checkpoint")?;
        drop(conn);
        match self.stop.at_checkpoint().await {
            Some(reason) => Err(Failure::Stopped(reason)),
            None => Ok(()),
        }
    }

    /// The last step: the `complete` event with lifecycle `ready` and the final checkpoint.
    async fn finish(&self) -> Result<(), Failure> {
        let at = self
            .ip
            .as_deref()
            .map(|ip| format!(" at {ip}"))
            .unwrap_or_default();
        self.sink
            .complete(
                &format!("{} is ready{at}.", self.spec.hostname),
                &self.checkpoint.to_json(),
            )
            .await?;
        tracing::info!("container ready");
        Ok(())
    }
}

/// Closes the connection behind `target`.
async fn close(target: &AnyTarget) {
    let session = match target {
        AnyTarget::Direct(t) => t.session(),
        AnyTarget::Pct(t) => t.node(),
    };
    if let Err(e) = session.close().await {
        tracing::debug!(target = %target.describe(), error = %e, "closing the SSH session");
    }
}
