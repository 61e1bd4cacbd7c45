//! Proxmox VE nodes: list, add, edit, delete, and test a connection. Every signed-in user may
//! list them (the wizard picks one); only admins add, change, delete or test one (403 for an
//! operator).

use crate::error::AppError;
use domain::NodeId;
use domain::node::{NodeForm, NodeSummary};
use leptos::prelude::*;

/// What "Only admins can …" says an operator may not do here.
#[cfg(feature = "ssr")]
const MANAGE_NODES: &str = "add, change, test or delete Proxmox nodes";

/// Every registered node, by name.
#[server(endpoint = "nodes/list", input = server_fn::codec::Json)]
pub async fn list_nodes() -> Result<Vec<NodeSummary>, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    let rows = backend::models::NodeRow::list(&mut conn).await?;
    Ok(rows.iter().map(|row| row.summary()).collect())
}

/// Adds a node (`id` is `None`) or updates one; an empty secret on update keeps the stored one,
/// allowed only while the address, TLS trust and token stay the same.
#[server(endpoint = "nodes/save", input = server_fn::codec::Json)]
pub async fn save_node(id: Option<NodeId>, form: NodeForm) -> Result<NodeSummary, AppError> {
    use crate::ssr::{ServerContext, require_admin};
    let user = require_admin(MANAGE_NODES).await?;
    let ctx = ServerContext::get()?;
    let input = form.validate(id.is_none())?;
    let saved = backend::services::nodes::save(&ctx.db, &ctx.secrets, id, input).await?;
    tracing::info!(user = %user.username, node = %saved.name, node.id = %saved.id, "node saved");
    Ok(saved)
}

/// Deletes a node that has no containers.
#[server(endpoint = "nodes/delete", input = server_fn::codec::Json)]
pub async fn delete_node(id: NodeId) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, require_admin};
    let user = require_admin(MANAGE_NODES).await?;
    let ctx = ServerContext::get()?;
    backend::services::nodes::delete(&ctx.db, id).await?;
    tracing::info!(user = %user.username, node.id = %id, "node deleted");
    Ok(())
}

/// Connects to a node with the form's values (the stored secret when the form leaves it empty
/// and keeps the node's address, TLS trust and token) and reports what a container creation
/// would find there.
#[server(endpoint = "nodes/test", input = server_fn::codec::Json)]
pub async fn test_node_connection(
    id: Option<NodeId>,
    form: NodeForm,
) -> Result<domain::node::ConnectionReport, AppError> {
    use crate::ssr::{ServerContext, require_admin};
    require_admin(MANAGE_NODES).await?;
    let ctx = ServerContext::get()?;
    let input = form.validate(id.is_none())?;
    Ok(backend::services::nodes::test_connection(&ctx.db, &ctx.secrets, id, &input).await?)
}
