//! Cancelling a creation, and whether a worker holds it (the progress page polls this).

use crate::error::AppError;
use domain::ContainerId;
use leptos::prelude::*;

pub use domain::container::{CancelReply, WorkerState};

/// Asks for a creation in progress to stop: at once if no worker has started it, else at the
/// worker's next safe point.
#[server(endpoint = "containers/cancel", input = server_fn::codec::Json)]
pub async fn cancel_creation(id: ContainerId) -> Result<CancelReply, AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let reply = backend::services::cancel::cancel(&ctx.db, &ctx.redis, &ctx.queue, id).await?;
    tracing::info!(user = %user.username, container.id = %id, ?reply, "creation cancel asked for");
    Ok(reply)
}

/// Whether a worker is on the creation right now.
#[server(endpoint = "containers/worker", input = server_fn::codec::Json)]
pub async fn creation_worker(id: ContainerId) -> Result<WorkerState, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(backend::services::cancel::worker_state(&ctx.queue, id).await?)
}
