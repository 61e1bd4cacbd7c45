//! Cancelling a creation, and whether a worker holds it (for the progress page).
//!
//! A cancel is stored in Redis next to the job (`Queue::request_cancel`): the job's worker
//! checks it every second and stops at its next checkpoint; a worker that takes the job over
//! from a dead one checks it before it starts. A job no worker ever started is taken off the
//! queue and settled here at once. Either way the container ends in `error` with a message
//! saying it was cancelled ([`domain::container::Cancelled`]), so Delete and Retry work.

use super::ServiceError;
use crate::db::DbPool;
use crate::events::{EventSink, SinkConfig};
use crate::models::ContainerRow;
use crate::models::event::EventRow;
use crate::queue::{CancelRequest, JobState, Queue, QueueError};
use crate::redis::RedisClient;
use domain::ContainerId;
use domain::container::{CancelReply, Cancelled, Lifecycle, WorkerState};

fn queue_unavailable(id: ContainerId, e: QueueError) -> ServiceError {
    tracing::error!(container.id = %id, error = %e, "job queue call failed");
    ServiceError::Unavailable("Redis is not reachable right now.".into())
}

/// Asks for the creation of `id` to stop. Refused unless it is being created.
pub async fn cancel(
    db: &DbPool,
    redis: &RedisClient,
    queue: &Queue,
    id: ContainerId,
) -> Result<CancelReply, ServiceError> {
    let mut conn = super::conn(db).await?;
    let row = ContainerRow::find(&mut conn, id).await?;
    if row.lifecycle != Lifecycle::Creating {
        return Err(ServiceError::Conflict(
            "Only a creation in progress can be cancelled.".into(),
        ));
    }
    // No event yet means no worker ever started on it: nothing exists on the node.
    let untouched = EventRow::max_seq(&mut conn, id).await?.is_none();
    drop(conn);
    let request = queue
        .request_cancel(id, untouched)
        .await
        .map_err(|e| queue_unavailable(id, e))?;
    tracing::info!(container.id = %id, ?request, "cancel requested");
    match request {
        CancelRequest::Stored => Ok(CancelReply::Requested),
        CancelRequest::Removed => {
            settle(db, redis, id).await?;
            Ok(CancelReply::Cancelled)
        }
        CancelRequest::NoJob if untouched => {
            settle(db, redis, id).await?;
            Ok(CancelReply::Cancelled)
        }
        CancelRequest::NoJob => Err(ServiceError::Conflict(
            "No job is queued for this container right now; try again in a minute.".into(),
        )),
    }
}

/// Ends a creation no worker holds as cancelled before it was created.
async fn settle(db: &DbPool, redis: &RedisClient, id: ContainerId) -> Result<(), ServiceError> {
    let sink = EventSink::open(db.clone(), redis.clone(), id, SinkConfig::default())
        .await
        .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
    sink.error(&Cancelled::BeforeCreate.message())
        .await
        .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
    sink.close()
        .await
        .map_err(|e| ServiceError::Unavailable(e.to_string()))
}

/// Whether a worker is on the creation of `id`.
pub async fn worker_state(queue: &Queue, id: ContainerId) -> Result<WorkerState, ServiceError> {
    let state = queue
        .job_state(id)
        .await
        .map_err(|e| queue_unavailable(id, e))?;
    Ok(match state {
        JobState::None => WorkerState::Idle,
        JobState::Waiting | JobState::Orphaned => WorkerState::Waiting,
        JobState::Running => WorkerState::Working,
    })
}
