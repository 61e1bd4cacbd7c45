//! Update runs: what re-applying a container's template would change, starting one, and the
//! list of a container's runs (its creation and each update) for the container page.

use crate::error::AppError;
use domain::ContainerId;
use domain::run::{RunSummary, UpdatePreview, UpdateSource};
use leptos::prelude::*;

/// The packages, scripts and files re-applying from `source` would add, remove or change.
#[server(endpoint = "containers/update-preview", input = server_fn::codec::Json)]
pub async fn preview_update(
    id: ContainerId,
    source: UpdateSource,
) -> Result<UpdatePreview, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(backend::services::updates::preview(&ctx.db, id, source).await?)
}

/// Starts an update run of a ready container from `source`; returns the run's number.
#[server(endpoint = "containers/update", input = server_fn::codec::Json)]
pub async fn start_update(id: ContainerId, source: UpdateSource) -> Result<i32, AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let number = backend::services::updates::start(
        &ctx.db,
        &ctx.redis,
        &ctx.queue,
        id,
        source,
        Some(user.id),
    )
    .await?;
    tracing::info!(user = %user.username, container.id = %id, run = number, source = %source, "update run queued");
    Ok(number)
}

/// Every run of the container, oldest first.
#[server(endpoint = "containers/runs", input = server_fn::codec::Json)]
pub async fn container_runs(id: ContainerId) -> Result<Vec<RunSummary>, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(backend::services::updates::runs(&ctx.db, id).await?)
}
