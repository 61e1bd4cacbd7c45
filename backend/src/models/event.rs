//! Stored progress events of a container, written in batches and replayed in `seq` order.

use crate::schema::container_events;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ContainerId;
use domain::container::Phase;
use domain::event::{EventKind, LogStream, ProgressEvent, ScriptProgress};

/// Rows per INSERT: 11 bind parameters a row stays well under PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 2_000;

/// One row of `container_events`.
#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = container_events)]
pub struct EventRow {
    pub container_id: ContainerId,
    pub seq: i64,
    pub kind: EventKind,
    pub phase: Phase,
    pub percent: i16,
    pub message: String,
    pub stream: Option<LogStream>,
    pub script_name: Option<String>,
    pub script_index: Option<i32>,
    pub script_total: Option<i32>,
    pub created_at: DateTime<Utc>,
}

impl EventRow {
    pub fn new(container_id: ContainerId, event: &ProgressEvent) -> Self {
        let script = event.script.as_ref();
        EventRow {
            container_id,
            seq: event.seq,
            kind: event.kind,
            phase: event.phase,
            percent: i16::from(event.percent.min(100)),
            message: event.message.clone(),
            stream: event.stream,
            script_name: script.map(|s| s.name.clone()),
            script_index: script.map(|s| i32::try_from(s.index).unwrap_or(i32::MAX)),
            script_total: script.map(|s| i32::try_from(s.total).unwrap_or(i32::MAX)),
            created_at: event.at,
        }
    }

    pub fn into_event(self) -> ProgressEvent {
        let script = self.script_name.map(|name| ScriptProgress {
            name,
            index: self
                .script_index
                .and_then(|i| u32::try_from(i).ok())
                .unwrap_or(0),
            total: self
                .script_total
                .and_then(|t| u32::try_from(t).ok())
                .unwrap_or(0),
        });
        ProgressEvent {
            seq: self.seq,
            kind: self.kind,
            phase: self.phase,
            percent: u8::try_from(self.percent.clamp(0, 100)).unwrap_or(100),
            message: self.message,
            stream: self.stream,
            script,
            at: self.created_at,
        }
    }

    /// Stores `events` with one multi-row INSERT (split only past [`ROWS_PER_INSERT`] rows).
    /// Events whose `seq` is already stored are skipped, so a retried write is harmless.
    pub async fn insert_batch(
        conn: &mut AsyncPgConnection,
        container_id: ContainerId,
        events: &[ProgressEvent],
    ) -> QueryResult<usize> {
        let mut inserted = 0;
        for chunk in events.chunks(ROWS_PER_INSERT) {
            let rows: Vec<EventRow> = chunk
                .iter()
                .map(|e| EventRow::new(container_id, e))
                .collect();
            inserted += diesel::insert_into(container_events::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        Ok(inserted)
    }

    /// At most `limit` events with `seq > after`, in `seq` order.
    pub async fn list_after(
        conn: &mut AsyncPgConnection,
        container_id: ContainerId,
        after: i64,
        limit: i64,
    ) -> QueryResult<Vec<ProgressEvent>> {
        let rows: Vec<EventRow> = container_events::table
            .filter(container_events::container_id.eq(container_id))
            .filter(container_events::seq.gt(after))
            .order(container_events::seq.asc())
            .limit(limit)
            .select(EventRow::as_select())
            .load(conn)
            .await?;
        Ok(rows.into_iter().map(EventRow::into_event).collect())
    }

    /// How many events the container has.
    pub async fn count(
        conn: &mut AsyncPgConnection,
        container_id: ContainerId,
    ) -> QueryResult<i64> {
        container_events::table
            .filter(container_events::container_id.eq(container_id))
            .count()
            .get_result(conn)
            .await
    }

    /// How many `log` events the container has (for the log limit after a worker restart).
    pub async fn count_logs(
        conn: &mut AsyncPgConnection,
        container_id: ContainerId,
    ) -> QueryResult<i64> {
        container_events::table
            .filter(container_events::container_id.eq(container_id))
            .filter(container_events::kind.eq(EventKind::Log))
            .count()
            .get_result(conn)
            .await
    }

    /// The highest `seq` stored, if any.
    pub async fn max_seq(
        conn: &mut AsyncPgConnection,
        container_id: ContainerId,
    ) -> QueryResult<Option<i64>> {
        container_events::table
            .filter(container_events::container_id.eq(container_id))
            .select(diesel::dsl::max(container_events::seq))
            .get_result(conn)
            .await
    }

    /// Replaces `secret` with `replacement` in the container's stored messages (a credential
    /// a script printed before the worker learned it); returns how many events changed.
    pub async fn scrub(
        conn: &mut AsyncPgConnection,
        container_id: ContainerId,
        secret: &str,
        replacement: &str,
    ) -> QueryResult<usize> {
        if secret.is_empty() {
            return Ok(0);
        }
        diesel::sql_query(
            "UPDATE container_events SET message = replace(message, $2, $3) \
             WHERE container_id = $1 AND strpos(message, $2) > 0",
        )
        .bind::<diesel::sql_types::Uuid, _>(container_id)
        .bind::<diesel::sql_types::Text, _>(secret)
        .bind::<diesel::sql_types::Text, _>(replacement)
        .execute(conn)
        .await
    }
}
