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
    use crate::ssr::{ServerContext, current_user};
    use backend::creation::{Stored, store_and_enqueue};
    use backend::services::{ServiceError, nodes::NodeSession};

    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    if let Some(id) = steps::earlier(&ctx, &form).await? {
        return Ok(id);
    }
    let spec = form.validated()?;
    if let Some(template_id) = spec.template_id {
        steps::template_exists(&ctx, template_id).await?;
    }
    let node = NodeSession::open(&ctx.db, &ctx.secrets, spec.node_id)
        .await
        .map_err(ServiceError::from)?;
    if let Some(reason) = node.vmid_taken(&ctx.db, spec.vmid).await? {
        // A second click may find the VMID held by the container its first click just stored.
        return match steps::earlier(&ctx, &form).await? {
            Some(id) => Ok(id),
            None => Err(AppError::field("vmid", reason)),
        };
    }
    let new = steps::new_container(&ctx, &user, &spec, &form.root_password)?;
    let mut conn = ctx.conn().await?;
    let stored = store_and_enqueue(&mut conn, &ctx.queue, &new, form.request_key)
        .await
        .map_err(steps::refused)?;
    if let Stored::Created(id) = stored {
        tracing::info!(
            user = %user.username,
            container.id = %id,
            node = %node.row.name,
            vmid = spec.vmid.get(),
            hostname = %spec.hostname,
            "container queued for creation"
        );
    }
    Ok(stored.id())
}

/// The create call's steps that are not the main line.
#[cfg(feature = "ssr")]
mod steps {
    use crate::error::AppError;
    use crate::ssr::{CurrentUser, ServerContext};
    use backend::creation::CreateError;
    use backend::crypto::Purpose;
    use backend::models::NewContainer;
    use domain::container::Lifecycle;
    use domain::spec::{ContainerSpec, CreateContainerForm};
    use domain::{ContainerId, TemplateId};

    /// The container an earlier call with this form's request key created.
    pub async fn earlier(
        ctx: &ServerContext,
        form: &CreateContainerForm,
    ) -> Result<Option<ContainerId>, AppError> {
        let mut conn = ctx.conn().await?;
        Ok(backend::creation::find_by_request_key(&mut conn, form.request_key).await?)
    }

    /// The chosen template still exists (it is linked from the container).
    pub async fn template_exists(ctx: &ServerContext, id: TemplateId) -> Result<(), AppError> {
        let mut conn = ctx.conn().await?;
        match backend::models::template::load(&mut conn, id).await {
            Ok(_) => Ok(()),
            Err(backend::db::QueryError::NotFound) => Err(AppError::field(
                "template_id",
                "The template was deleted meanwhile. Start again from the Template step.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The row to store: the validated spec as JSON, the root password sealed.
    pub fn new_container(
        ctx: &ServerContext,
        user: &CurrentUser,
        spec: &ContainerSpec,
        root_password: &str,
    ) -> Result<NewContainer, AppError> {
        let config = serde_json::to_value(spec).map_err(|e| {
            tracing::error!(error = %e, "could not serialise a container spec");
            AppError::Internal
        })?;
        Ok(NewContainer {
            id: ContainerId::new_random(),
            node_id: spec.node_id,
            template_id: spec.template_id,
            vmid: spec.vmid,
            hostname: spec.hostname.clone(),
            lifecycle: Lifecycle::Creating,
            config,
            root_password_enc: Some(ctx.secrets.seal_str(Purpose::RootPassword, root_password)),
            created_by: Some(user.id),
        })
    }

    /// Why storing and queueing failed, as the user sees it.
    pub fn refused(err: CreateError) -> AppError {
        match err {
            CreateError::VmidHeld(vmid) => AppError::field(
                "vmid",
                format!("VMID {vmid} is taken by a container infrahaus is creating on this node."),
            ),
            CreateError::Queue(_) => AppError::Unavailable(
                "The job queue (Redis) is not reachable, so the container was not created. \
                 Nothing was stored; try Deploy again in a moment."
                    .into(),
            ),
            CreateError::Database(e) => e.into(),
        }
    }
}
