//! Storing a new container and queueing its creation job, as the create call needs it: at most
//! one container per request key, at most one of our `creating` containers per node and VMID,
//! and no row left behind when the job cannot be queued.
//!
//! The row is committed before the job is queued, so a worker that picks the job up at once
//! always finds the row. When queueing fails the row is deleted again before the error is
//! returned; a process that dies between the two leaves a `creating` row without a job, which
//! [`requeue_stalled`] (run by every worker) queues again.

use crate::models::{ContainerRow, NewContainer};
use crate::queue::{Job, Queue, QueueError};
use crate::schema::containers;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::container::Lifecycle;
use domain::values::Vmid;
use domain::{ContainerId, NodeId};

/// Why a container was not stored and queued.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Another of our containers on the node is being created with this VMID.
    #[error("VMID {0} is already used by a container infrahaus is creating on this node")]
    VmidHeld(Vmid),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// The job could not be queued; the row was removed again.
    #[error("the job queue is unreachable: {0}")]
    Queue(#[from] QueueError),
}

/// The container an earlier create call with this request key stored, if any.
pub async fn find_by_request_key(
    conn: &mut AsyncPgConnection,
    request_key: uuid::Uuid,
) -> QueryResult<Option<ContainerId>> {
    containers::table
        .filter(containers::request_key.eq(request_key))
        .select(containers::id)
        .first(conn)
        .await
        .optional()
}

/// True when one of our containers in `creating` holds `vmid` on `node`.
pub async fn vmid_held(
    conn: &mut AsyncPgConnection,
    node: NodeId,
    vmid: Vmid,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        containers::table
            .filter(containers::node_id.eq(node))
            .filter(containers::vmid.eq(vmid))
            .filter(containers::lifecycle.eq(Lifecycle::Creating)),
    ))
    .get_result(conn)
    .await
}

/// What [`store_and_enqueue`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// The row was stored and its job queued.
    Created(ContainerId),
    /// An earlier call with the same request key already stored this container.
    Existing(ContainerId),
}

impl Stored {
    pub fn id(self) -> ContainerId {
        match self {
            Stored::Created(id) | Stored::Existing(id) => id,
        }
    }
}

/// Stores `new` (which must be `creating`) under `request_key`, then queues its job.
pub async fn store_and_enqueue(
    conn: &mut AsyncPgConnection,
    queue: &Queue,
    new: &NewContainer,
    request_key: uuid::Uuid,
) -> Result<Stored, CreateError> {
    let vmid = new.vmid;
    let inserted = conn
        .transaction(async move |conn| {
            // Two calls for the same node and VMID take turns from here to the commit.
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind::<diesel::sql_types::Text, _>(format!("vmid:{}:{}", new.node_id, new.vmid))
                .execute(conn)
                .await?;
            if let Some(id) = find_by_request_key(conn, request_key).await? {
                return Ok(Stored::Existing(id));
            }
            if vmid_held(conn, new.node_id, vmid).await? {
                return Err(CreateError::VmidHeld(vmid));
            }
            let row: ContainerRow = diesel::insert_into(containers::table)
                .values((new, containers::request_key.eq(request_key)))
                .returning(ContainerRow::as_returning())
                .get_result(conn)
                .await?;
            crate::models::RunRow::insert_creation(conn, row.id, new.created_by).await?;
            Ok(Stored::Created(row.id))
        })
        .await;
    let id = match inserted {
        Ok(Stored::Created(id)) => id,
        Ok(existing) => return Ok(existing),
        // The same key sent twice at once with different VMIDs: the first insert won.
        Err(CreateError::Database(e)) if crate::models::is_unique_violation(&e) => {
            return match find_by_request_key(conn, request_key).await? {
                Some(id) => Ok(Stored::Existing(id)),
                None => Err(e.into()),
            };
        }
        Err(e) => return Err(e),
    };
    if let Err(e) = queue.enqueue(&Job { container_id: id }).await {
        tracing::warn!(container.id = %id, error = %e, "could not queue the job; removing the row");
        if let Err(cleanup) = ContainerRow::delete(conn, id).await {
            tracing::error!(container.id = %id, error = %cleanup, "could not remove the unqueued row");
        }
        return Err(e.into());
    }
    Ok(Stored::Created(id))
}

/// Queues a job again for every container left `creating` (or `updating`) without one: the create call commits
/// the row before it queues the job, so a server that dies in between leaves such a row, and so
/// would a queue that lost its data. Only rows unchanged for `quiet_for` are considered (a create
/// call in progress is left alone); a container whose job is still open is skipped by the queue's
/// own one-job-per-container rule, so running this often never doubles a job. Returns the
/// containers that got a new job.
pub async fn requeue_stalled(
    conn: &mut AsyncPgConnection,
    queue: &Queue,
    quiet_for: std::time::Duration,
) -> Result<Vec<ContainerId>, CreateError> {
    let cutoff = chrono::Utc::now()
        - chrono::Duration::from_std(quiet_for).unwrap_or(chrono::Duration::zero());
    let stalled: Vec<ContainerId> = containers::table
        .filter(containers::lifecycle.eq_any([Lifecycle::Creating, Lifecycle::Updating]))
        .filter(containers::updated_at.lt(cutoff))
        .select(containers::id)
        .load(conn)
        .await?;
    let mut requeued = Vec::new();
    for container_id in stalled {
        if queue.enqueue(&Job { container_id }).await? == crate::queue::Enqueued::Added {
            tracing::warn!(container.id = %container_id, "container was creating without a job: queued it again");
            requeued.push(container_id);
        }
    }
    Ok(requeued)
}
