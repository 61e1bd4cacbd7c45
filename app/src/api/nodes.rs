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

/// Adds a node (`id` is `None`) or updates one; an empty secret on update keeps the stored one,
/// allowed only while the address, TLS trust and token stay the same.
#[server(endpoint = "nodes/save", input = server_fn::codec::Json)]
pub async fn save_node(id: Option<NodeId>, form: NodeForm) -> Result<NodeSummary, AppError> {
    use crate::ssr::{ServerContext, current_user};
    use backend::models::{NewNode, NodeRow, is_unique_violation};

    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let input = form.validate(id.is_none())?;
    let mut conn = ctx.conn().await?;
    if let Some(id) = id {
        check_secret_reuse(&input, &NodeRow::find(&mut conn, id).await?)?;
    }
    let new = NewNode::from_input(input, &ctx.secrets);
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

/// Connects to a node with the form's values (the stored secret when the form leaves it empty
/// and keeps the node's address, TLS trust and token) and reports what a container creation
/// would find there.
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
            check_secret_reuse(&input, &row)?;
            ctx.secrets.open_str(
                backend::crypto::Purpose::NodeTokenSecret,
                &row.token_secret_enc,
            )?
        }
        (None, None) => return Err(AppError::field("token_secret", "Required.")),
    };
    crate::ssr::proxmox::connection_report(&input, &secret).await
}

/// Refuses to use `stored`'s secret with settings it was not saved for: the secret would be
/// sent to whatever host the form names.
#[cfg(feature = "ssr")]
fn check_secret_reuse(
    input: &domain::node::NodeInput,
    stored: &backend::models::NodeRow,
) -> Result<(), AppError> {
    if input.token_secret.is_some() {
        return Ok(());
    }
    match input.stored_secret_refusal(&stored.summary()) {
        None => Ok(()),
        Some(message) => Err(AppError::field("token_secret", message)),
    }
}
