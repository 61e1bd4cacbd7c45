//! The audit record (`audit_events`): who revealed a credential, ran a power action or deleted a
//! container, and when. Rows are only ever added.

use crate::schema::audit_events;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::audit::{ActivityEntry, AuditAction};
use domain::{ContainerId, UserId};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<UserId>,
    pub username: String,
    pub action: AuditAction,
    pub detail: String,
    pub container_id: ContainerId,
    pub container: String,
}

/// A row to add; `at` is the database's clock.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    pub user_id: Option<UserId>,
    pub username: String,
    pub action: AuditAction,
    pub detail: String,
    pub container_id: ContainerId,
    pub container: String,
}

impl AuditRow {
    pub async fn insert(conn: &mut AsyncPgConnection, event: &NewAuditEvent) -> QueryResult<()> {
        diesel::insert_into(audit_events::table)
            .values(event)
            .execute(conn)
            .await
            .map(drop)
    }

    /// The latest `limit` events of one container, newest first.
    pub async fn for_container(
        conn: &mut AsyncPgConnection,
        container_id: ContainerId,
        limit: i64,
    ) -> QueryResult<Vec<AuditRow>> {
        audit_events::table
            .filter(audit_events::container_id.eq(container_id))
            .order((audit_events::at.desc(), audit_events::id.desc()))
            .limit(limit)
            .select(AuditRow::as_select())
            .load(conn)
            .await
    }

    /// The latest `limit` events of every container, deleted ones included, newest first.
    pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<AuditRow>> {
        audit_events::table
            .order((audit_events::at.desc(), audit_events::id.desc()))
            .limit(limit)
            .select(AuditRow::as_select())
            .load(conn)
            .await
    }

    /// The row as the activity list shows it.
    pub fn entry(&self) -> ActivityEntry {
        ActivityEntry {
            at: self.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            username: self.username.clone(),
            action: self.action,
            detail: self.detail.clone(),
            container: self.container.clone(),
        }
    }
}
