//! Templates: list, load, save, delete, and discover the templates folder.

use crate::error::AppError;
use domain::TemplateId;
use domain::template::{TemplateDetail, TemplateSummary};
use leptos::prelude::*;

/// Every template with its resources and counts, by name.
#[server(endpoint = "templates/list", input = server_fn::codec::Json)]
pub async fn list_templates() -> Result<Vec<TemplateSummary>, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    Ok(backend::models::template::list(&mut conn).await?)
}

/// One template with its scripts, files, packages and included buckets (with their packages).
#[server(endpoint = "templates/get", input = server_fn::codec::Json)]
pub async fn get_template(id: TemplateId) -> Result<TemplateDetail, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    Ok(backend::models::template::load(&mut conn, id).await?)
}

/// Creates a template (`id` is `None`) or replaces one with everything it carries; returns its id.
/// A new template is `custom`; an edited one keeps its source.
#[server(endpoint = "templates/save", input = server_fn::codec::Json)]
pub async fn save_template(
    id: Option<TemplateId>,
    template: domain::template::Template,
) -> Result<TemplateId, AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let template = template.validated()?;
    let name = template.name.clone();
    let id = backend::services::templates::save(&ctx.db, id, template).await?;
    tracing::info!(user = %user.username, template = %name, template.id = %id, "template saved");
    Ok(id)
}

/// Deletes a template; containers created from it keep running and forget where they came from.
#[server(endpoint = "templates/delete", input = server_fn::codec::Json)]
pub async fn delete_template(id: TemplateId) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    if !backend::models::template::delete(&mut conn, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(user = %user.username, template.id = %id, "template deleted");
    Ok(())
}

/// A problem in a template folder, with its file and line when known.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiscoverIssue {
    pub path: String,
    pub line: Option<u32>,
    pub message: String,
}

/// What "Discover templates" did: template names added, updated and unchanged, and problems.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiscoverReport {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    pub issues: Vec<DiscoverIssue>,
}

/// Syncs the templates folder (`INFRAHAUS_TEMPLATES_DIR`, else `templates`) into the database;
/// the server reads the setting at start.
#[server(endpoint = "templates/discover", input = server_fn::codec::Json)]
pub async fn discover_templates() -> Result<DiscoverReport, AppError> {
    use crate::ssr::{ServerContext, current_user};
    use backend::templates::sync::{SyncError, sync_folder};

    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    let report = sync_folder(&mut conn, &ctx.templates_dir)
        .await
        .map_err(|e| match e {
            SyncError::Folder { .. } => AppError::Unavailable(format!("{e}.")),
            SyncError::Database(e) => e.into(),
        })?;
    tracing::info!(
        user = %user.username,
        added = report.added.len(),
        updated = report.updated.len(),
        issues = report.issues.len(),
        "templates discovered"
    );
    Ok(DiscoverReport {
        added: report.added,
        updated: report.updated,
        unchanged: report.unchanged,
        issues: report
            .issues
            .into_iter()
            .map(|i| DiscoverIssue {
                path: i.path,
                line: i.line,
                message: i.message,
            })
            .collect(),
    })
}
