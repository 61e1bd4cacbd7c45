//! Honouring a cancel: the job stopped at a checkpoint (or before its first step) because a user
//! asked for it. The container, if this job created it, is stopped and kept; the last event and
//! the row say which (`domain::container::Cancelled`), with lifecycle `error` so Delete and
//! Retry work from there.

use backend::events::EventSink;
use backend::models::ContainerRow;
use backend::services::nodes::NodeSession;
use domain::container::{Cancelled, Phase};
use domain::event::LogStream;
use pve_client::TaskOutcome;
use pve_client::lxc::GuestState;

use super::Pipeline;
use super::checkpoint::Checkpoint;
use super::job::job_tag;
use crate::runner::JobOutcome;

impl Pipeline {
    /// Stops the container this job created, if any, and ends the job as cancelled.
    pub(super) async fn finish_cancelled(
        &self,
        row: &ContainerRow,
        sink: &EventSink,
    ) -> JobOutcome {
        let _ = sink
            .log(
                LogStream::Stdout,
                "Cancel requested: stopping here; the container, if created, is stopped and kept.",
            )
            .await;
        let outcome = match self.stop_if_created(row).await {
            Ok(outcome) => outcome,
            Err((node, e)) => {
                tracing::warn!(error = %e, "could not reach the node to stop a cancelled container");
                Cancelled::Unknown {
                    vmid: row.vmid.get(),
                    node,
                }
            }
        };
        if matches!(outcome, Cancelled::Stopped { .. })
            && let Err(e) = self.rewind_to_start(row).await
        {
            tracing::error!(error = %e, "could not record the cancel; retrying later");
            return JobOutcome::Retry;
        }
        tracing::info!(?outcome, "creation cancelled");
        match sink.error(&outcome.message()).await {
            Ok(()) => JobOutcome::Done,
            Err(e) => {
                tracing::error!(error = ?e, "could not record the cancel; retrying later");
                JobOutcome::Retry
            }
        }
    }

    /// The container is stopped now: a retry starts it again (Start and Deploy run again,
    /// Sync goes on after its finished steps).
    async fn rewind_to_start(&self, row: &ContainerRow) -> Result<(), String> {
        let mut conn = self.db.get().await.map_err(|e| e.to_string())?;
        let stored = ContainerRow::find(&mut conn, row.id)
            .await
            .map_err(|e| e.to_string())?;
        let mut checkpoint = Checkpoint::from_json(&stored.checkpoint);
        if checkpoint.is_done(Phase::Start) {
            checkpoint.done = Some(Phase::Create);
            ContainerRow::set_checkpoint(&mut conn, row.id, &checkpoint.to_json())
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// What the node has of this job, after stopping it; the error names the node.
    async fn stop_if_created(&self, row: &ContainerRow) -> Result<Cancelled, (String, String)> {
        let node = NodeSession::open(&self.db, &self.secrets, row.node_id)
            .await
            .map_err(|e| (String::from("?"), e.to_string()))?;
        let failed = |e: String| (node.row.name.clone(), e);
        let vmid = row.vmid.get();
        let list = node
            .client
            .lxc_list(&node.pve_node)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let tag = job_tag(row.id);
        let ours = list.iter().find(|c| {
            c.vmid == vmid
                && c.tags
                    .as_deref()
                    .unwrap_or_default()
                    .split([';', ',', ' '])
                    .any(|t| t == tag)
        });
        let Some(ct) = ours else {
            return Ok(Cancelled::BeforeCreate);
        };
        if ct.status == GuestState::Running {
            let upid = node
                .client
                .lxc_stop(&node.pve_node, vmid)
                .await
                .map_err(|e| failed(e.to_string()))?;
            let settings = &self.settings;
            let waited = node
                .client
                .wait_for_task(&upid, settings.task_poll, settings.task_timeout, |_| {})
                .await;
            match waited {
                Ok(TaskOutcome::Ok | TaskOutcome::Warnings(_)) => {}
                Ok(TaskOutcome::Failed(e)) => return Err(failed(e)),
                Err(e) => return Err(failed(e.to_string())),
            }
        }
        Ok(Cancelled::Stopped {
            vmid,
            node: node.row.name.clone(),
        })
    }
}
