//! The wizard's Deploy: validates every step again, makes sure the VMID is free on the node,
//! stores the container (`creating`, root password sealed) and queues its creation job.

use crate::error::AppError;
use domain::ContainerId;
use domain::spec::CreateContainerForm;
use leptos::prelude::*;

/// Creates a container from the wizard's form and returns its id. Sending the same form
/// (same `request_key`) again returns the same id and creates nothing.
#[server(endpoint = "containers/create", input = server_fn::codec::Json)]
pub async fn create_container(form: CreateContainerForm) -> Result<ContainerId, AppError> {
    use crate::api::resources::on_node;
    use crate::ssr::{ServerContext, current_user};
    use backend::creation::{CreateError, Stored, find_by_request_key, store_and_enqueue};
    use backend::crypto::Purpose;
    use backend::models::NewContainer;
    use domain::container::Lifecycle;

    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    if let Some(id) = find_by_request_key(&mut conn, form.request_key).await? {
        return Ok(id);
    }
    drop(conn);
    let spec = form.validated()?;
    if let Some(template_id) = spec.template_id {
        let mut conn = ctx.conn().await?;
        match backend::models::template::load(&mut conn, template_id).await {
            Err(diesel::result::Error::NotFound) => {
                return Err(AppError::field(
                    "template_id",
                    "The template was deleted meanwhile. Start again from the Template step.",
                ));
            }
            other => drop(other?),
        }
    }
    let node = on_node::connect(&ctx, spec.node_id).await?;
    if let Some(reason) = node.vmid_taken(&ctx, spec.vmid).await? {
        // A second click may find the VMID held by the container its first click just stored.
        let mut conn = ctx.conn().await?;
        if let Some(id) = find_by_request_key(&mut conn, form.request_key).await? {
            return Ok(id);
        }
        return Err(AppError::field("vmid", reason));
    }
    let config = serde_json::to_value(&spec).map_err(|e| {
        tracing::error!(error = %e, "could not serialise a container spec");
        AppError::Internal
    })?;
    let new = NewContainer {
        id: ContainerId::new_random(),
        node_id: spec.node_id,
        template_id: spec.template_id,
        vmid: i32::try_from(spec.vmid).map_err(|_| AppError::field("vmid", "Too large."))?,
        hostname: spec.hostname.clone(),
        lifecycle: Lifecycle::Creating,
        config,
        root_password_enc: Some(
            ctx.secrets
                .seal_str(Purpose::RootPassword, &form.root_password),
        ),
        created_by: Some(user.id),
    };
    let mut conn = ctx.conn().await?;
    match store_and_enqueue(&mut conn, &ctx.queue, &new, form.request_key).await {
        Ok(Stored::Created(id)) => {
            tracing::info!(
                user = %user.username,
                container.id = %id,
                node = %node.row.name,
                vmid = spec.vmid,
                hostname = %spec.hostname,
                "container queued for creation"
            );
            Ok(id)
        }
        Ok(Stored::Existing(id)) => Ok(id),
        Err(CreateError::VmidHeld(vmid)) => Err(AppError::field(
            "vmid",
            format!("VMID {vmid} is taken by a container infrahaus is creating on this node."),
        )),
        Err(CreateError::Queue(_)) => Err(AppError::Unavailable(
            "The job queue (Redis) is not reachable, so the container was not created. \
             Nothing was stored; try Deploy again in a moment."
                .into(),
        )),
        Err(CreateError::Database(e)) => Err(e.into()),
    }
}
