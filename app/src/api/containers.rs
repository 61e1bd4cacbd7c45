//! Containers: the list, one container's details, revealing a credential, power actions,
//! retrying a failed creation and deleting. The progress history itself is read from the
//! progress stream (`GET /api/containers/{id}/progress`), which replays it in pages.

use crate::error::AppError;
use domain::ContainerId;
use domain::container::Credential;
use leptos::prelude::*;

pub use domain::container::{ContainerDetail, ContainerSummary, PowerAction};

/// Every container, newest first.
#[server(endpoint = "containers/list", input = server_fn::codec::Json)]
pub async fn list_containers() -> Result<Vec<ContainerSummary>, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(backend::services::containers::list(&ctx.db).await?)
}

/// One container: configuration, state, services and credential names.
#[server(endpoint = "containers/get", input = server_fn::codec::Json)]
pub async fn get_container(id: ContainerId) -> Result<ContainerDetail, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(backend::services::containers::detail(&ctx.db, id).await?)
}

/// Opens one stored credential, recorded in the container's activity. Admins open any; an
/// operator only those of containers they created (403 otherwise). The value goes to the
/// browser only; it is never logged.
#[server(endpoint = "containers/reveal", input = server_fn::codec::Json)]
pub async fn reveal_credential(id: ContainerId, name: String) -> Result<Credential, AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let actor = user.actor();
    Ok(backend::services::credentials::reveal(&ctx.db, &ctx.secrets, &actor, id, &name).await?)
}

/// Starts, shuts down, stops or restarts the container on its node and waits for Proxmox to
/// finish; the pages' live status asks the node again at once.
#[server(endpoint = "containers/power", input = server_fn::codec::Json)]
pub async fn power_container(id: ContainerId, action: PowerAction) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    backend::services::containers::power(&ctx.db, &ctx.secrets, id, action, &user.actor()).await?;
    ctx.live.refresh_all();
    tracing::info!(user = %user.username, container.id = %id, ?action, "power action done");
    Ok(())
}

/// Deletes the container: stops and destroys it on Proxmox (a container already gone there is
/// fine), then forgets it. Refused while it is being created.
#[server(endpoint = "containers/delete", input = server_fn::codec::Json)]
pub async fn delete_container(id: ContainerId) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let destroyed =
        backend::services::containers::delete(&ctx.db, &ctx.secrets, id, &user.actor()).await?;
    tracing::info!(user = %user.username, container.id = %id, destroyed, "container deleted");
    Ok(())
}

/// Queues a failed creation again; the worker resumes after the last finished step.
#[server(endpoint = "containers/retry", input = server_fn::codec::Json)]
pub async fn retry_container(id: ContainerId) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    backend::services::containers::retry(&ctx.db, &ctx.redis, &ctx.queue, id).await?;
    tracing::info!(user = %user.username, container.id = %id, "container creation retried");
    Ok(())
}
