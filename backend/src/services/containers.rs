//! What a user does with a container once it exists: see it, power it, delete it, retry its
//! creation. Used by the server functions; the Proxmox calls go through the container's node.

use super::ServiceError;
use super::nodes::NodeError;
use crate::audit::{self, Actor};
use crate::crypto::SecretBox;
use crate::db::DbPool;
use crate::events::{EventSink, SinkConfig};
use crate::models::event::EventRow;
use crate::models::{ContainerRow, CredentialRow, NodeRow, RunRow, ServiceRow};
use crate::queue::{Job, Queue};
use crate::redis::RedisClient;
use domain::ContainerId;
use domain::audit::AuditAction;
use domain::container::{ContainerDetail, ContainerSummary, Lifecycle, Phase, PowerAction};
use domain::run::RunKind;
use domain::spec::ContainerSpec;
use pve_client::{PveClient, PveError, Upid};
use std::time::Duration;

/// How often a Proxmox task is polled.
const TASK_POLL: Duration = Duration::from_millis(500);
/// Longest wait for a start, stop or destroy task.
const TASK_TIMEOUT: Duration = Duration::from_secs(180);
/// How long a clean shutdown (alone or in a restart) may take before Proxmox gives up on it
/// (Proxmox's own default).
pub const SHUTDOWN_TIMEOUT_SECS: u32 = 60;

/// Every container, newest first.
pub async fn list(db: &DbPool) -> Result<Vec<ContainerSummary>, ServiceError> {
    let mut conn = super::conn(db).await?;
    let nodes = NodeRow::list(&mut conn).await?;
    let rows = ContainerRow::list(&mut conn).await?;
    Ok(rows
        .iter()
        .map(|row| summary(row, &nodes, row.spec().ok().as_ref()))
        .collect())
}

/// One container: configuration, state, services and credential names.
pub async fn detail(db: &DbPool, id: ContainerId) -> Result<ContainerDetail, ServiceError> {
    let mut conn = super::conn(db).await?;
    let row = ContainerRow::find(&mut conn, id).await?;
    let nodes = NodeRow::list(&mut conn).await?;
    let spec = row.spec().ok();
    Ok(ContainerDetail {
        summary: summary(&row, &nodes, spec.as_ref()),
        spec,
        error_message: row.error_message.clone(),
        services: ServiceRow::list(&mut conn, id).await?,
        credentials: CredentialRow::names(&mut conn, id).await?,
    })
}

/// The row as listed; `spec` is its stored configuration when it can be read (read once by the
/// caller, which may need it too).
fn summary(
    row: &ContainerRow,
    nodes: &[NodeRow],
    spec: Option<&ContainerSpec>,
) -> ContainerSummary {
    ContainerSummary {
        id: row.id,
        hostname: row.hostname.to_string(),
        vmid: row.vmid.get(),
        node: nodes
            .iter()
            .find(|n| n.id == row.node_id)
            .map(|n| n.name.clone())
            .unwrap_or_default(),
        lifecycle: row.lifecycle,
        template: spec.and_then(|s| s.template_name.clone()),
        ip_address: row.ip_address.clone(),
        created: row.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// Starts, shuts down or stops the container on its node and waits for Proxmox to finish;
/// recorded in the audit record for `actor` once done.
pub async fn power(
    db: &DbPool,
    secrets: &SecretBox,
    id: ContainerId,
    action: PowerAction,
    actor: &Actor,
) -> Result<(), ServiceError> {
    let target = Target::load(db, secrets, id).await?;
    if target.row.lifecycle.is_running_a_job() {
        return Err(ServiceError::Conflict(
            "The container is still being created or updated; wait until it is ready.".into(),
        ));
    }
    let Some(node) = target.locate().await? else {
        return Err(ServiceError::Conflict(format!(
            "Container {} no longer exists on {}.",
            target.row.vmid, target.node.name
        )));
    };
    target.power(&node, action).await?;
    let detail = domain::audit::power_detail(action);
    audit::record_done(db, actor, &target.row, AuditAction::Power, &detail).await;
    Ok(())
}

/// Deletes the container: stops and destroys it on Proxmox (a container already gone there is
/// fine), then forgets it. Refused while it is being created. Returns whether it was destroyed
/// on the node. Recorded in the audit record for `actor` once done.
pub async fn delete(
    db: &DbPool,
    secrets: &SecretBox,
    id: ContainerId,
    actor: &Actor,
) -> Result<bool, ServiceError> {
    let target = Target::load(db, secrets, id).await?;
    if target.row.lifecycle.is_running_a_job() {
        return Err(ServiceError::Conflict(
            "The container is still being created or updated; wait until it is ready or has \
             failed."
                .into(),
        ));
    }
    let destroyed = match target.locate().await? {
        Some(node) => {
            target.destroy(&node).await?;
            true
        }
        None => false,
    };
    let mut conn = super::conn(db).await?;
    ContainerRow::delete(&mut conn, id).await?;
    drop(conn);
    audit::record_done(db, actor, &target.row, AuditAction::Deleted, "").await;
    Ok(destroyed)
}

/// Moves a failed container back to `creating` (only from `error`, so two clicks queue one
/// job), writes a step event saying so, and queues its job; the worker resumes after the last
/// finished step.
pub async fn retry(
    db: &DbPool,
    redis: &RedisClient,
    queue: &Queue,
    id: ContainerId,
) -> Result<(), ServiceError> {
    let mut conn = super::conn(db).await?;
    let latest = RunRow::latest(&mut conn, id).await?;
    let to = match latest.map(|run| run.kind) {
        Some(RunKind::Update) => Lifecycle::Updating,
        _ => Lifecycle::Creating,
    };
    if !ContainerRow::retry_from_error(&mut conn, id, to).await? {
        ContainerRow::find(&mut conn, id).await?;
        return Err(ServiceError::Conflict(
            "Only a container whose creation failed can be retried.".into(),
        ));
    }
    RunRow::reopen_latest(&mut conn, id).await?;
    drop(conn);
    note_retry(db, redis, id).await;
    queue
        .enqueue(&Job { container_id: id })
        .await
        .map_err(|e| {
            tracing::error!(container.id = %id, error = %e, "could not queue the retry");
            ServiceError::Unavailable("Redis is not reachable right now.".into())
        })?;
    Ok(())
}

/// A step event after the failed run's `error`, so open progress pages see the run go on.
async fn note_retry(db: &DbPool, redis: &RedisClient, id: ContainerId) {
    let last = async {
        let mut conn = super::conn(db).await.ok()?;
        let max = EventRow::max_seq(&mut conn, id).await.ok()??;
        EventRow::list_after(&mut conn, id, max - 1, 1)
            .await
            .ok()?
            .pop()
    }
    .await;
    let (phase, percent) = last.map_or((Phase::Create, 0), |e| (e.phase, e.percent));
    let written = async {
        let sink = EventSink::open(db.clone(), redis.clone(), id, SinkConfig::default()).await?;
        sink.step(
            phase,
            percent,
            "Retrying: resuming after the last finished step.",
        )
        .await?;
        sink.close().await
    }
    .await;
    if let Err(e) = written {
        tracing::warn!(container.id = %id, error = %e, "could not record the retry event");
    }
}

/// A container with its node and a client for that node.
struct Target {
    row: ContainerRow,
    node: NodeRow,
    client: PveClient,
}

impl Target {
    async fn load(
        db: &DbPool,
        secrets: &SecretBox,
        id: ContainerId,
    ) -> Result<Target, ServiceError> {
        let mut conn = super::conn(db).await?;
        let row = ContainerRow::find(&mut conn, id).await?;
        let node = NodeRow::find(&mut conn, row.node_id).await?;
        let client = crate::proxmox::client_for_row(&node, secrets).map_err(|e| {
            ServiceError::from(NodeError::Unusable {
                node: node.name.clone(),
                reason: e.to_string(),
            })
        })?;
        Ok(Target { row, node, client })
    }

    fn unreachable(&self, source: PveError) -> ServiceError {
        NodeError::Unreachable {
            node: self.node.name.clone(),
            source,
        }
        .into()
    }

    /// The Proxmox node the container is on now (it may have migrated), or `None` when no
    /// container with its VMID and hostname exists in the cluster. A guest that reuses the VMID
    /// under another name is someone else's and is left alone.
    async fn locate(&self) -> Result<Option<String>, ServiceError> {
        let guests = self
            .client
            .cluster_resources(Some("vm"))
            .await
            .map_err(|e| self.unreachable(e))?;
        let vmid = self.row.vmid.get();
        Ok(guests
            .into_iter()
            .find(|g| {
                g.kind == "lxc"
                    && g.vmid == Some(vmid)
                    && g.name.as_deref().is_none_or(|n| self.row.hostname == n)
            })
            .and_then(|g| g.node))
    }

    async fn power(&self, node: &str, action: PowerAction) -> Result<(), ServiceError> {
        let vmid = self.row.vmid.get();
        let upid = match action {
            PowerAction::Start => self.client.lxc_start(node, vmid).await,
            PowerAction::Shutdown => {
                self.client
                    .lxc_shutdown_within(node, vmid, SHUTDOWN_TIMEOUT_SECS, false)
                    .await
            }
            PowerAction::Stop => self.client.lxc_stop(node, vmid).await,
            PowerAction::Restart => {
                self.client
                    .lxc_reboot(node, vmid, Some(SHUTDOWN_TIMEOUT_SECS))
                    .await
            }
        }
        .map_err(|e| self.unreachable(e))?;
        self.wait(&upid).await
    }

    /// Stops the container if it runs, then destroys it; "does not exist" counts as done.
    async fn destroy(&self, node: &str) -> Result<(), ServiceError> {
        let vmid = self.row.vmid.get();
        let gone = |e: &PveError| matches!(e, PveError::NotFound { .. });
        match self.client.lxc_status(node, vmid).await {
            Ok(status) if status.status == pve_client::lxc::GuestState::Running => {
                self.power(node, PowerAction::Stop).await?;
            }
            Ok(_) => {}
            Err(e) if gone(&e) => return Ok(()),
            Err(e) => return Err(self.unreachable(e)),
        }
        match self.client.lxc_delete(node, vmid, true).await {
            Ok(upid) => self.wait(&upid).await,
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(self.unreachable(e)),
        }
    }

    /// Waits for the task; a task Proxmox ran and failed is a conflict that says why.
    async fn wait(&self, upid: &Upid) -> Result<(), ServiceError> {
        match self
            .client
            .wait_for_task(upid, TASK_POLL, TASK_TIMEOUT, |_| {})
            .await
        {
            Ok(_) => Ok(()),
            Err(PveError::TaskFailed { exit_status, .. }) => Err(task_failed(upid, &exit_status)),
            Err(e) => Err(self.unreachable(e)),
        }
    }
}

/// A failed Proxmox task in words; a shutdown that ran out of time says what to do next.
fn task_failed(upid: &Upid, exit_status: &str) -> ServiceError {
    let text = if upid.task_type == "vzshutdown" && exit_status.contains("did not stop") {
        format!(
            "The container did not shut down within {SHUTDOWN_TIMEOUT_SECS} s and is still \
             running. Stop it to turn it off at once."
        )
    } else {
        format!(
            "Proxmox could not {}: {exit_status}",
            domain::task::task_label(&upid.task_type).to_lowercase()
        )
    };
    ServiceError::Conflict(text)
}
