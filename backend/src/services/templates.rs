//! Saving a template from the editor.

use super::ServiceError;
use crate::db::DbPool;
use crate::models::template as model;
use domain::TemplateId;
use domain::template::{Template, TemplateSource};

/// Creates a template (`id` is `None`, the template is `custom`) or replaces one with everything
/// it carries, keeping its source; `template` is validated. Returns its id.
pub async fn save(
    db: &DbPool,
    id: Option<TemplateId>,
    mut template: Template,
) -> Result<TemplateId, ServiceError> {
    use diesel::result::{DatabaseErrorKind, Error};
    let mut seen = std::collections::HashSet::new();
    template.bucket_ids.retain(|b| seen.insert(*b));
    let mut conn = super::conn(db).await?;
    let saved = match id {
        None => {
            template.source = TemplateSource::Custom;
            model::insert(&mut conn, &template).await.map(Some)
        }
        Some(id) => {
            template.source = model::load(&mut conn, id).await?.template.source;
            model::update(&mut conn, id, &template)
                .await
                .map(|found| found.then_some(id))
        }
    };
    match saved {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(ServiceError::NotFound),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Err(
            ServiceError::invalid("name", "A template with this name already exists."),
        ),
        Err(Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            Err(ServiceError::invalid(
                "bucket_ids",
                "A chosen bucket no longer exists. Reload the page and choose again.",
            ))
        }
        Err(e) => Err(e.into()),
    }
}
