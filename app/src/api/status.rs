//! What the containers' Proxmox nodes say about them: live status and usage (read from pollers
//! the server shares between every viewer, so polling these costs Proxmox nothing extra), and a
//! container's Proxmox tasks with their logs.

use crate::error::AppError;
use domain::ContainerId;
use leptos::prelude::*;

pub use domain::task::{NodeTask, TaskLog, TaskState};
pub use domain::usage::{LiveStatus, NodeView, Usage};

/// Every container's node view (the list page polls this).
#[server(endpoint = "containers/live", input = server_fn::codec::Json)]
pub async fn live_statuses() -> Result<Vec<LiveStatus>, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(ctx.live.all(&ctx.db, &ctx.secrets).await?)
}

/// One container's node view, from its `status/current` (the container page polls this).
#[server(endpoint = "containers/status", input = server_fn::codec::Json)]
pub async fn container_live_status(id: ContainerId) -> Result<LiveStatus, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(ctx.live.one(&ctx.db, &ctx.secrets, id).await?)
}

/// The container's recent Proxmox tasks, newest first.
#[server(endpoint = "containers/tasks", input = server_fn::codec::Json)]
pub async fn container_tasks(id: ContainerId) -> Result<Vec<NodeTask>, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(backend::services::node_tasks::list(&ctx.db, &ctx.secrets, id).await?)
}

/// The log of one of the container's Proxmox tasks.
#[server(endpoint = "containers/task_log", input = server_fn::codec::Json)]
pub async fn container_task_log(id: ContainerId, upid: String) -> Result<TaskLog, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(backend::services::node_tasks::log(&ctx.db, &ctx.secrets, id, &upid).await?)
}
