//! The audit record as people read it: one container's activity on its page, and every
//! container's latest (deleted ones included) on the users page, for admins.

use super::ServiceError;
use crate::audit::Actor;
use crate::db::DbPool;
use crate::models::ContainerRow;
use crate::models::audit::AuditRow;
use domain::ContainerId;
use domain::audit::ActivityEntry;

/// How many entries a list shows.
const SHOWN: i64 = 100;

/// The latest activity on container `id`, newest first; 404 for an unknown container.
pub async fn for_container(
    db: &DbPool,
    id: ContainerId,
) -> Result<Vec<ActivityEntry>, ServiceError> {
    let mut conn = super::conn(db).await?;
    ContainerRow::find(&mut conn, id).await?;
    let rows = AuditRow::for_container(&mut conn, id, SHOWN).await?;
    Ok(rows.iter().map(AuditRow::entry).collect())
}

/// The latest activity on every container, newest first; admins only.
pub async fn recent(db: &DbPool, actor: &Actor) -> Result<Vec<ActivityEntry>, ServiceError> {
    actor.require_admin("see every container's activity")?;
    let mut conn = super::conn(db).await?;
    let rows = AuditRow::recent(&mut conn, SHOWN).await?;
    Ok(rows.iter().map(AuditRow::entry).collect())
}
