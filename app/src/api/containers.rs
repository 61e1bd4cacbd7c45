//! Containers: the list, one container's details, revealing a credential, power actions,
//! retrying a failed creation and deleting. The progress history itself is read from the
//! progress stream (`GET /api/containers/{id}/progress`), which replays it in pages.

use crate::error::AppError;
use domain::ContainerId;
use domain::container::{Credential, Lifecycle, ServiceInfo};
use domain::spec::ContainerSpec;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One row of the container list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSummary {
    pub id: ContainerId,
    pub hostname: String,
    pub vmid: u32,
    /// The infrahaus name of the Proxmox node.
    pub node: String,
    pub lifecycle: Lifecycle,
    pub template: Option<String>,
    pub ip_address: Option<String>,
    /// When it was created, `YYYY-MM-DD HH:MM UTC`.
    pub created: String,
}

/// Everything the container page shows but the event history. Holds no secret: credentials
/// are listed by name and opened one at a time with [`reveal_credential`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerDetail {
    pub summary: ContainerSummary,
    /// The configuration the wizard produced; `None` when the stored JSON cannot be read.
    pub spec: Option<ContainerSpec>,
    pub error_message: Option<String>,
    pub services: Vec<ServiceInfo>,
    pub credentials: Vec<String>,
}

/// What a power button asks Proxmox to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerAction {
    Start,
    /// A clean shutdown from inside the container.
    Shutdown,
    /// An immediate stop.
    Stop,
}

impl PowerAction {
    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            PowerAction::Start => "Start",
            PowerAction::Shutdown => "Shut down",
            PowerAction::Stop => "Stop",
        }
    }
}

/// Every container, newest first.
#[server(endpoint = "containers/list", input = server_fn::codec::Json)]
pub async fn list_containers() -> Result<Vec<ContainerSummary>, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    let nodes = backend::models::NodeRow::list(&mut conn).await?;
    let rows = backend::models::ContainerRow::list(&mut conn).await?;
    Ok(rows
        .iter()
        .map(|row| server::summary(row, &nodes))
        .collect())
}

/// One container: configuration, state, services and credential names.
#[server(endpoint = "containers/get", input = server_fn::codec::Json)]
pub async fn get_container(id: ContainerId) -> Result<ContainerDetail, AppError> {
    use crate::ssr::{ServerContext, current_user};
    use backend::models::{ContainerRow, CredentialRow, NodeRow, ServiceRow};
    current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    let row = ContainerRow::find(&mut conn, id).await?;
    let nodes = NodeRow::list(&mut conn).await?;
    Ok(ContainerDetail {
        summary: server::summary(&row, &nodes),
        spec: serde_json::from_value(row.config.clone()).ok(),
        error_message: row.error_message.clone(),
        services: ServiceRow::list(&mut conn, id).await?,
        credentials: CredentialRow::names(&mut conn, id).await?,
    })
}

/// Opens one stored credential. The value goes to the browser only; it is never logged.
#[server(endpoint = "containers/reveal", input = server_fn::codec::Json)]
pub async fn reveal_credential(id: ContainerId, name: String) -> Result<Credential, AppError> {
    use crate::ssr::{ServerContext, current_user};
    use backend::models::credential::RevealError;
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    match backend::models::CredentialRow::reveal(&mut conn, &ctx.secrets, id, &name).await {
        Ok(Some(credential)) => {
            tracing::info!(user = %user.username, container.id = %id, credential = %name, "credential revealed");
            Ok(credential)
        }
        Ok(None) => Err(AppError::NotFound),
        Err(RevealError::Db(e)) => Err(e.into()),
        Err(RevealError::Crypto(e)) => Err(e.into()),
    }
}

/// Starts, shuts down or stops the container on its node and waits for Proxmox to finish.
#[server(endpoint = "containers/power", input = server_fn::codec::Json)]
pub async fn power_container(id: ContainerId, action: PowerAction) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let target = server::Target::load(&ctx, id).await?;
    if target.row.lifecycle == Lifecycle::Creating {
        return Err(AppError::Conflict(
            "The container is still being created; wait until it is ready.".into(),
        ));
    }
    let Some(node) = target.locate().await? else {
        return Err(AppError::Conflict(format!(
            "Container {} no longer exists on {}.",
            target.row.vmid, target.node.name
        )));
    };
    target.power(&node, action).await?;
    tracing::info!(user = %user.username, container.id = %id, vmid = target.row.vmid, ?action, "power action done");
    Ok(())
}

/// Deletes the container: stops and destroys it on Proxmox (a container already gone there is
/// fine), then forgets it. Refused while it is being created.
#[server(endpoint = "containers/delete", input = server_fn::codec::Json)]
pub async fn delete_container(id: ContainerId) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let target = server::Target::load(&ctx, id).await?;
    if target.row.lifecycle == Lifecycle::Creating {
        return Err(AppError::Conflict(
            "The container is still being created; wait until it is ready or has failed.".into(),
        ));
    }
    let destroyed = match target.locate().await? {
        Some(node) => {
            target.destroy(&node).await?;
            true
        }
        None => false,
    };
    let mut conn = ctx.conn().await?;
    backend::models::ContainerRow::delete(&mut conn, id).await?;
    tracing::info!(user = %user.username, container.id = %id, vmid = target.row.vmid, destroyed, "container deleted");
    Ok(())
}

/// Queues a failed creation again; the worker resumes after the last finished step.
#[server(endpoint = "containers/retry", input = server_fn::codec::Json)]
pub async fn retry_container(id: ContainerId) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    server::retry(&ctx, id).await?;
    tracing::info!(user = %user.username, container.id = %id, "container creation retried");
    Ok(())
}

#[cfg(feature = "ssr")]
mod server {
    //! The server side of the container functions: Proxmox calls and the retry's state change.

    use super::{ContainerSummary, PowerAction};
    use crate::error::AppError;
    use crate::ssr::ServerContext;
    use crate::ssr::proxmox::unavailable;
    use backend::models::{ContainerRow, NodeRow};
    use domain::ContainerId;
    use pve_client::{PveClient, PveError};
    use std::time::Duration;

    /// How often a Proxmox task is polled.
    const TASK_POLL: Duration = Duration::from_millis(500);
    /// Longest wait for a start, stop or destroy task.
    const TASK_TIMEOUT: Duration = Duration::from_secs(180);

    pub fn summary(row: &ContainerRow, nodes: &[NodeRow]) -> ContainerSummary {
        let template = row
            .config
            .get("template_name")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        ContainerSummary {
            id: row.id,
            hostname: row.hostname.clone(),
            vmid: u32::try_from(row.vmid).unwrap_or(0),
            node: nodes
                .iter()
                .find(|n| n.id == row.node_id)
                .map(|n| n.name.clone())
                .unwrap_or_default(),
            lifecycle: row.lifecycle,
            template,
            ip_address: row.ip_address.clone(),
            created: row.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }

    /// A container with its node and a client for that node.
    pub struct Target {
        pub row: ContainerRow,
        pub node: NodeRow,
        client: PveClient,
    }

    impl Target {
        pub async fn load(ctx: &ServerContext, id: ContainerId) -> Result<Target, AppError> {
            let mut conn = ctx.conn().await?;
            let row = ContainerRow::find(&mut conn, id).await?;
            let node = NodeRow::find(&mut conn, row.node_id).await?;
            let client =
                backend::proxmox::client_for_row(&node, &ctx.secrets).map_err(|e| match e {
                    backend::proxmox::NodeClientError::Pve(e) => unavailable(e),
                    backend::proxmox::NodeClientError::Secret(e) => e.into(),
                })?;
            Ok(Target { row, node, client })
        }

        fn vmid(&self) -> u32 {
            u32::try_from(self.row.vmid).unwrap_or(0)
        }

        /// The Proxmox node the container is on now (it may have migrated), or `None` when no
        /// container with its VMID and hostname exists in the cluster. A guest that reuses the
        /// VMID under another name is someone else's and is left alone.
        pub async fn locate(&self) -> Result<Option<String>, AppError> {
            let guests = self
                .client
                .cluster_resources(Some("vm"))
                .await
                .map_err(unavailable)?;
            Ok(guests
                .into_iter()
                .find(|g| {
                    g.kind == "lxc"
                        && g.vmid == Some(self.vmid())
                        && g.name.as_deref().is_none_or(|n| n == self.row.hostname)
                })
                .and_then(|g| g.node))
        }

        pub async fn power(&self, node: &str, action: PowerAction) -> Result<(), AppError> {
            let vmid = self.vmid();
            let upid = match action {
                PowerAction::Start => self.client.lxc_start(node, vmid).await,
                PowerAction::Shutdown => self.client.lxc_shutdown(node, vmid).await,
                PowerAction::Stop => self.client.lxc_stop(node, vmid).await,
            }
            .map_err(unavailable)?;
            self.wait(&upid).await
        }

        /// Stops the container if it runs, then destroys it; "does not exist" counts as done.
        pub async fn destroy(&self, node: &str) -> Result<(), AppError> {
            let vmid = self.vmid();
            let gone = |e: &PveError| matches!(e, PveError::NotFound { .. });
            match self.client.lxc_status(node, vmid).await {
                Ok(status) if status.status == pve_client::lxc::GuestState::Running => {
                    self.power(node, PowerAction::Stop).await?;
                }
                Ok(_) => {}
                Err(e) if gone(&e) => return Ok(()),
                Err(e) => return Err(unavailable(e)),
            }
            match self.client.lxc_delete(node, vmid, true).await {
                Ok(upid) => self.wait(&upid).await,
                Err(e) if gone(&e) => Ok(()),
                Err(e) => Err(unavailable(e)),
            }
        }

        async fn wait(&self, upid: &pve_client::Upid) -> Result<(), AppError> {
            self.client
                .wait_for_task(upid, TASK_POLL, TASK_TIMEOUT, |_| {})
                .await
                .map(drop)
                .map_err(unavailable)
        }
    }

    /// Moves a failed container back to `creating` (only from `error`, so two clicks queue one
    /// job), writes a step event saying so, and queues its job.
    pub async fn retry(ctx: &ServerContext, id: ContainerId) -> Result<(), AppError> {
        let mut conn = ctx.conn().await?;
        if !ContainerRow::retry_from_error(&mut conn, id).await? {
            ContainerRow::find(&mut conn, id).await?;
            return Err(AppError::Conflict(
                "Only a container whose creation failed can be retried.".into(),
            ));
        }
        drop(conn);
        note_retry(ctx, id).await;
        ctx.queue
            .enqueue(&backend::queue::Job { container_id: id })
            .await
            .map_err(|e| {
                tracing::error!(container.id = %id, error = %e, "could not queue the retry");
                AppError::Unavailable("Redis is not reachable right now.".into())
            })?;
        Ok(())
    }

    /// A step event after the failed run's `error`, so open progress pages see the run go on.
    async fn note_retry(ctx: &ServerContext, id: ContainerId) {
        use backend::events::{EventSink, SinkConfig};
        use backend::models::event::EventRow;
        let last = async {
            let mut conn = ctx.conn().await.ok()?;
            let max = EventRow::max_seq(&mut conn, id).await.ok()??;
            EventRow::list_after(&mut conn, id, max - 1, 1)
                .await
                .ok()?
                .pop()
        }
        .await;
        let (phase, percent) = last.map_or((domain::container::Phase::Create, 0), |e| {
            (e.phase, e.percent)
        });
        let written = async {
            let sink =
                EventSink::open(ctx.db.clone(), ctx.redis.clone(), id, SinkConfig::default())
                    .await?;
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
}
