//! The audit record: who revealed a credential, ran a power action or deleted a container, and
//! when. Written by the backend's services; read here.

use crate::error::AppError;
use domain::ContainerId;
use domain::audit::ActivityEntry;
use leptos::prelude::*;

/// The latest activity on one container, newest first.
#[server(endpoint = "containers/activity", input = server_fn::codec::Json)]
pub async fn container_activity(id: ContainerId) -> Result<Vec<ActivityEntry>, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(backend::services::activity::for_container(&ctx.db, id).await?)
}

/// The latest activity on every container, deleted ones included; admins only.
#[server(endpoint = "activity/recent", input = server_fn::codec::Json)]
pub async fn recent_activity() -> Result<Vec<ActivityEntry>, AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    Ok(backend::services::activity::recent(&ctx.db, &user.actor()).await?)
}
