//! Service health for the server functions: the last report of a container's services and
//! asking a worker for a new check (see [`crate::health`] for the Redis side, and the worker's
//! `health` module for the check itself).

use super::ServiceError;
use crate::db::DbPool;
use crate::health::HealthChecks;
use crate::models::ContainerRow;
use domain::ContainerId;
use domain::container::Lifecycle;
use domain::health::HealthView;

/// The last report of `id`'s services and whether a check is under way.
pub async fn view(
    db: &DbPool,
    checks: &HealthChecks,
    id: ContainerId,
) -> Result<HealthView, ServiceError> {
    let mut conn = super::conn(db).await?;
    ContainerRow::find(&mut conn, id).await?;
    drop(conn);
    Ok(checks.view(id, chrono::Utc::now()).await?)
}

/// Asks a worker to check `id`'s services now (once, however many ask while it runs).
/// Refused unless the container is ready.
pub async fn check(
    db: &DbPool,
    checks: &HealthChecks,
    id: ContainerId,
) -> Result<HealthView, ServiceError> {
    let mut conn = super::conn(db).await?;
    let row = ContainerRow::find(&mut conn, id).await?;
    drop(conn);
    if row.lifecycle != Lifecycle::Ready {
        return Err(ServiceError::Conflict(
            "Services are checked once the container is ready.".into(),
        ));
    }
    let requested = checks.request(id).await?;
    tracing::debug!(container.id = %id, ?requested, "service check asked for");
    Ok(checks.view(id, chrono::Utc::now()).await?)
}
