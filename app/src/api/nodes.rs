//! Proxmox VE nodes: list, add, edit, delete, and test a connection.

use crate::error::AppError;
use domain::NodeId;
use domain::node::{NodeForm, NodeSummary};
use leptos::prelude::*;

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

/// Adds a node (`id` is `None`) or updates one; an empty secret on update keeps the stored one.
#[server(endpoint = "nodes/save", input = server_fn::codec::Json)]
pub async fn save_node(id: Option<NodeId>, form: NodeForm) -> Result<NodeSummary, AppError> {
    use crate::ssr::{ServerContext, current_user};
    use backend::models::{NewNode, NodeRow, is_unique_violation};

    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let input = form.validate(id.is_none())?;
    let new = NewNode::from_input(input, &ctx.secrets);
    let mut conn = ctx.conn().await?;
    let saved = match id {
        None => NodeRow::insert(&mut conn, &new).await,
        Some(id) => NodeRow::update(&mut conn, id, &new).await,
    };
    let row = saved.map_err(|e| {
        if is_unique_violation(&e) {
            AppError::field("name", "A node with this name already exists.")
        } else {
            e.into()
        }
    })?;
    tracing::info!(user = %user.username, node = %row.name, node.id = %row.id, "node saved");
    Ok(row.summary())
}

/// Deletes a node that has no containers.
#[server(endpoint = "nodes/delete", input = server_fn::codec::Json)]
pub async fn delete_node(id: NodeId) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, current_user};
    use diesel::result::{DatabaseErrorKind, Error};

    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    match backend::models::NodeRow::delete(&mut conn, id).await {
        Ok(true) => {
            tracing::info!(user = %user.username, node.id = %id, "node deleted");
            Ok(())
        }
        Ok(false) => Err(AppError::NotFound),
        Err(Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            Err(AppError::Conflict(
                "This node still has containers in infrahaus. Delete them first.".into(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Connects to a node with the form's values (the stored secret when the form leaves it empty)
/// and reports what a container creation would find there.
#[server(endpoint = "nodes/test", input = server_fn::codec::Json)]
pub async fn test_node_connection(
    id: Option<NodeId>,
    form: NodeForm,
) -> Result<domain::node::ConnectionReport, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    let input = form.validate(id.is_none())?;
    let secret = match (input.token_secret.clone(), id) {
        (Some(secret), _) => secret,
        (None, Some(id)) => {
            let mut conn = ctx.conn().await?;
            let row = backend::models::NodeRow::find(&mut conn, id).await?;
            ctx.secrets.open_str(
                backend::crypto::Purpose::NodeTokenSecret,
                &row.token_secret_enc,
            )?
        }
        (None, None) => return Err(AppError::field("token_secret", "Required.")),
    };
    crate::ssr::proxmox::connection_report(&input, &secret).await
}
