//! Re-applying a ready container's template: what it would change, and starting an update run.
//!
//! An update run is a queued job like a creation, with the same progress page, log, takeover
//! and retry: the container moves to `updating`, its stored configuration becomes the one the
//! run applies, and its checkpoint is set so the worker starts at the Start phase (which finds
//! the container running, or starts it, and reads its address), then deploys, syncs (files by
//! their policy, missing packages, every enabled script again) and discovers services.

use super::ServiceError;
use crate::db::DbPool;
use crate::events::{EventSink, SinkConfig};
use crate::models::event::EventRow;
use crate::models::{ContainerRow, RunRow};
use crate::queue::{Job, Queue};
use crate::redis::RedisClient;
use crate::schema::containers;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::container::{Lifecycle, Phase};
use domain::event::LogStream;
use domain::run::{RunSummary, UpdatePreview, UpdateSource};
use domain::spec::{ContainerSpec, Setup};
use domain::{ContainerId, UserId};

/// What re-applying from `source` would change in the container's setup.
pub async fn preview(
    db: &DbPool,
    id: ContainerId,
    source: UpdateSource,
) -> Result<UpdatePreview, ServiceError> {
    let mut conn = super::conn(db).await?;
    let row = ContainerRow::find(&mut conn, id).await?;
    let current = stored_spec(&row)?;
    let next = spec_from(&mut conn, &current, source).await?;
    Ok(UpdatePreview {
        source,
        changes: Setup::of_spec(&next).changes_from(&Setup::of_spec(&current)),
    })
}

/// Every run of the container (its creation, then each update), oldest first.
pub async fn runs(db: &DbPool, id: ContainerId) -> Result<Vec<RunSummary>, ServiceError> {
    let mut conn = super::conn(db).await?;
    ContainerRow::find(&mut conn, id).await?;
    Ok(RunRow::list(&mut conn, id).await?)
}

/// Starts an update run from `source` on a ready container; returns the run's number.
pub async fn start(
    db: &DbPool,
    redis: &RedisClient,
    queue: &Queue,
    id: ContainerId,
    source: UpdateSource,
    started_by: Option<UserId>,
) -> Result<i32, ServiceError> {
    let mut conn = super::conn(db).await?;
    let row = ContainerRow::find(&mut conn, id).await?;
    if row.lifecycle != Lifecycle::Ready {
        return Err(not_ready(row.lifecycle));
    }
    let current = stored_spec(&row)?;
    let next = spec_from(&mut conn, &current, source).await?;
    let config = serde_json::to_value(&next)
        .map_err(|e| ServiceError::Internal(format!("serialising a spec: {e}")))?;
    let previous = (row.config.clone(), row.checkpoint.clone());
    let number = conn
        .transaction::<_, diesel::result::Error, _>(async move |conn| {
            // Only from `ready`: two clicks at once start one run.
            let changed = diesel::update(
                containers::table
                    .find(id)
                    .filter(containers::lifecycle.eq(Lifecycle::Ready)),
            )
            .set((
                containers::lifecycle.eq(Lifecycle::Updating),
                containers::config.eq(&config),
                containers::checkpoint.eq(resume_at_start()),
                containers::error_message.eq(None::<String>),
                containers::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
            if changed == 0 {
                return Ok(None);
            }
            let first_seq = EventRow::max_seq(conn, id).await?.unwrap_or(0) + 1;
            RunRow::insert_update(conn, id, source, first_seq, started_by)
                .await
                .map(Some)
        })
        .await
        .map_err(ServiceError::from)?;
    let Some(number) = number else {
        let now = ContainerRow::find(&mut conn, id).await?.lifecycle;
        return Err(not_ready(now));
    };
    drop(conn);
    let sink = EventSink::open(db.clone(), redis.clone(), id, SinkConfig::default())
        .await
        .ok();
    let announced = match &sink {
        Some(sink) => sink
            .step(
                Phase::Start,
                Phase::Start.percent_range().0,
                &format!(
                    "Update {number}: applying {}.",
                    source.label().to_lowercase()
                ),
            )
            .await
            .is_ok(),
        None => false,
    };
    if !announced {
        tracing::warn!(container.id = %id, "could not record the update's first event");
    }
    let queued = queue.enqueue(&Job { container_id: id }).await;
    if let Err(e) = &queued {
        tracing::error!(container.id = %id, error = %e, "could not queue the update");
        undo(db, id, previous).await;
        if let Some(sink) = &sink {
            let _ = sink
                .log(
                    LogStream::Stderr,
                    "The update could not be queued (Redis is not reachable); nothing was changed.",
                )
                .await;
        }
    }
    if let Some(sink) = sink
        && let Err(e) = sink.close().await
    {
        tracing::warn!(container.id = %id, error = %e, "could not store the update's events");
    }
    match queued {
        Ok(_) => Ok(number),
        Err(_) => Err(ServiceError::Unavailable(
            "The job queue (Redis) is not reachable, so the update did not start. Try again in \
             a moment."
                .into(),
        )),
    }
}

/// The checkpoint an update run starts from: the Create phase done (the worker's
/// `Checkpoint` JSON), so it starts at Start.
fn resume_at_start() -> serde_json::Value {
    serde_json::json!({ "done": Phase::Create })
}

/// Puts the container back as it was before a run that could not be queued.
async fn undo(
    db: &DbPool,
    id: ContainerId,
    (config, checkpoint): (serde_json::Value, serde_json::Value),
) {
    let restored = async {
        let mut conn = super::conn(db).await?;
        diesel::update(containers::table.find(id))
            .set((
                containers::lifecycle.eq(Lifecycle::Ready),
                containers::config.eq(config),
                containers::checkpoint.eq(checkpoint),
            ))
            .execute(&mut conn)
            .await?;
        RunRow::finish_latest(&mut conn, id, "error").await?;
        Ok::<(), ServiceError>(())
    }
    .await;
    if let Err(e) = restored {
        tracing::error!(container.id = %id, error = %e, "could not undo an update that was not queued");
    }
}

fn not_ready(lifecycle: Lifecycle) -> ServiceError {
    let why = match lifecycle {
        Lifecycle::Creating => "it is still being created",
        Lifecycle::Updating => "an update is running",
        Lifecycle::Error => "its last run failed; retry it first",
        Lifecycle::Ready => "it changed meanwhile",
    };
    ServiceError::Conflict(format!("Only a ready container can be updated, and {why}."))
}

fn stored_spec(row: &ContainerRow) -> Result<ContainerSpec, ServiceError> {
    row.spec().map_err(|e| {
        ServiceError::Conflict(format!(
            "The stored configuration of this container cannot be read ({e}), so it cannot be \
             updated."
        ))
    })
}

/// The spec an update from `source` applies.
async fn spec_from(
    conn: &mut diesel_async::AsyncPgConnection,
    current: &ContainerSpec,
    source: UpdateSource,
) -> Result<ContainerSpec, ServiceError> {
    match source {
        UpdateSource::Stored => Ok(current.clone()),
        UpdateSource::Template => {
            let Some(template) = current.template_id else {
                return Err(ServiceError::invalid(
                    "source",
                    "This container was not made from a template; re-apply its stored \
                     configuration instead.",
                ));
            };
            match crate::models::template::load(conn, template).await {
                Ok(detail) => Ok(current.with_setup(Setup::of_template(&detail))),
                Err(diesel::result::Error::NotFound) => Err(ServiceError::invalid(
                    "source",
                    "The template was deleted; re-apply the stored configuration instead.",
                )),
                Err(e) => Err(e.into()),
            }
        }
    }
}
