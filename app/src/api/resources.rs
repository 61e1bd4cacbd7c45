//! What a node offers the wizard's Configure step: root-disk storages, OS templates, bridges and
//! the next free VMID, and whether a chosen VMID is free. Asked of the node each time; an
//! unreachable node is an [`AppError::Unavailable`] whose text says what failed.

use crate::error::AppError;
use domain::NodeId;
use leptos::prelude::*;

pub use domain::node::{BridgeChoice, NodeResources, StorageChoice, VmidStatus};

/// Storages, OS templates, bridges and the next free VMID of a node.
#[server(endpoint = "resources/node", input = server_fn::codec::Json)]
pub async fn get_node_resources(node_id: NodeId) -> Result<NodeResources, AppError> {
    use crate::ssr::{ServerContext, current_user};
    use backend::services::nodes::NodeSession;
    current_user().await?;
    let ctx = ServerContext::get()?;
    let node = NodeSession::open(&ctx.db, &ctx.secrets, node_id)
        .await
        .map_err(backend::services::ServiceError::from)?;
    Ok(node.resources(&ctx.db).await?)
}

/// Whether `vmid` is free on the node and not held by a container infrahaus is creating there.
#[server(endpoint = "resources/vmid", input = server_fn::codec::Json)]
pub async fn check_vmid(node_id: NodeId, vmid: u32) -> Result<VmidStatus, AppError> {
    use crate::ssr::{ServerContext, current_user};
    use backend::services::nodes::NodeSession;
    current_user().await?;
    let ctx = ServerContext::get()?;
    let checked = domain::values::Vmid::new(vmid).map_err(|m| AppError::field("vmid", m))?;
    let node = NodeSession::open(&ctx.db, &ctx.secrets, node_id)
        .await
        .map_err(backend::services::ServiceError::from)?;
    let reason = node.vmid_taken(&ctx.db, checked).await?;
    Ok(VmidStatus {
        vmid,
        free: reason.is_none(),
        reason,
    })
}
