//! Runs of a container (its creation, then each update), for the container page's list and for
//! scoping a run's log to its events.

use crate::schema::{container_runs, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::run::{RunKind, RunSummary, UpdateSource};
use domain::{ContainerId, UserId};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = container_runs)]
pub struct RunRow {
    pub container_id: ContainerId,
    pub number: i32,
    pub kind: RunKind,
    pub source: Option<UpdateSource>,
    pub first_seq: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub started_by: Option<UserId>,
}

impl RunRow {
    /// Records run 1, the creation, whose log starts at the first event.
    pub async fn insert_creation(
        conn: &mut AsyncPgConnection,
        container: ContainerId,
        started_by: Option<UserId>,
    ) -> QueryResult<()> {
        diesel::insert_into(container_runs::table)
            .values((
                container_runs::container_id.eq(container),
                container_runs::number.eq(1),
                container_runs::kind.eq(RunKind::Create),
                container_runs::first_seq.eq(1i64),
                container_runs::started_by.eq(started_by),
            ))
            .execute(conn)
            .await
            .map(drop)
    }

    /// Records the next run, an update from `source` whose log starts at `first_seq`; its
    /// number.
    pub async fn insert_update(
        conn: &mut AsyncPgConnection,
        container: ContainerId,
        source: UpdateSource,
        first_seq: i64,
        started_by: Option<UserId>,
    ) -> QueryResult<i32> {
        let last: Option<i32> = container_runs::table
            .filter(container_runs::container_id.eq(container))
            .select(diesel::dsl::max(container_runs::number))
            .first(conn)
            .await?;
        let number = last.unwrap_or(0) + 1;
        diesel::insert_into(container_runs::table)
            .values((
                container_runs::container_id.eq(container),
                container_runs::number.eq(number),
                container_runs::kind.eq(RunKind::Update),
                container_runs::source.eq(Some(source)),
                container_runs::first_seq.eq(first_seq),
                container_runs::started_by.eq(started_by),
            ))
            .execute(conn)
            .await?;
        Ok(number)
    }

    /// The newest run, if any.
    pub async fn latest(
        conn: &mut AsyncPgConnection,
        container: ContainerId,
    ) -> QueryResult<Option<RunRow>> {
        container_runs::table
            .filter(container_runs::container_id.eq(container))
            .order(container_runs::number.desc())
            .select(RunRow::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// Ends the newest run with `outcome` (`ready`, `error`, `cancelled`); a retry that ends it
    /// again overwrites the outcome.
    pub async fn finish_latest(
        conn: &mut AsyncPgConnection,
        container: ContainerId,
        outcome: &str,
    ) -> QueryResult<()> {
        let Some(latest) = Self::latest(conn, container).await? else {
            return Ok(());
        };
        diesel::update(container_runs::table.find((container, latest.number)))
            .set((
                container_runs::finished_at.eq(diesel::dsl::now),
                container_runs::outcome.eq(outcome),
            ))
            .execute(conn)
            .await
            .map(drop)
    }

    /// Marks the newest run as going on again (a retry).
    pub async fn reopen_latest(
        conn: &mut AsyncPgConnection,
        container: ContainerId,
    ) -> QueryResult<()> {
        let Some(latest) = Self::latest(conn, container).await? else {
            return Ok(());
        };
        diesel::update(container_runs::table.find((container, latest.number)))
            .set((
                container_runs::finished_at.eq(None::<DateTime<Utc>>),
                container_runs::outcome.eq(None::<String>),
            ))
            .execute(conn)
            .await
            .map(drop)
    }

    /// Every run of the container, oldest first, with who started it.
    pub async fn list(
        conn: &mut AsyncPgConnection,
        container: ContainerId,
    ) -> QueryResult<Vec<RunSummary>> {
        let rows: Vec<(RunRow, Option<String>)> = container_runs::table
            .left_join(users::table.on(users::id.nullable().eq(container_runs::started_by)))
            .filter(container_runs::container_id.eq(container))
            .order(container_runs::number.asc())
            .select((RunRow::as_select(), users::username.nullable()))
            .load(conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(run, started_by)| RunSummary {
                number: run.number,
                kind: run.kind,
                source: run.source,
                first_seq: run.first_seq,
                started: run.started_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                outcome: run.outcome,
                started_by,
            })
            .collect())
    }
}
