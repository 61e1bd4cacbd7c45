//! A container's Proxmox tasks (create, start, shut down, restart, …) and their logs, read from
//! its node for the container's page.

use super::ServiceError;
use super::nodes::NodeSession;
use crate::crypto::SecretBox;
use crate::db::DbPool;
use crate::models::ContainerRow;
use domain::ContainerId;
use domain::task::{NodeTask, TaskLog, TaskState};
use pve_client::tasks::{TaskFilter, TaskListEntry, TaskStatus};
use pve_client::{TaskOutcome, Upid};

/// How many tasks the page lists.
const LISTED: u32 = 20;
/// How many log lines one read returns.
const LOG_LINES: u64 = 1000;
/// Tasks that started this long before the container's row are still its own (clocks differ).
const CLOCK_SLACK_SECS: i64 = 300;

/// The container's most recent tasks on its node, newest first (running ones too).
pub async fn list(
    db: &DbPool,
    secrets: &SecretBox,
    id: ContainerId,
) -> Result<Vec<NodeTask>, ServiceError> {
    let (row, node) = open(db, secrets, id).await?;
    let filter = TaskFilter {
        vmid: Some(row.vmid.get()),
        since: Some(row.created_at.timestamp() - CLOCK_SLACK_SECS),
        limit: Some(LISTED),
        include_running: true,
    };
    let tasks = node
        .client
        .node_tasks_where(&node.pve_node, &filter)
        .await
        .map_err(|e| node.unreachable(e))?;
    Ok(tasks.iter().map(listed).collect())
}

/// The log of one of the container's tasks; `upid` must be a task of this container.
pub async fn log(
    db: &DbPool,
    secrets: &SecretBox,
    id: ContainerId,
    upid: &str,
) -> Result<TaskLog, ServiceError> {
    let upid: Upid = upid
        .parse()
        .map_err(|_| ServiceError::invalid("upid", "This is not a Proxmox task id."))?;
    let (row, node) = open(db, secrets, id).await?;
    if upid.id != row.vmid.get().to_string() {
        return Err(ServiceError::invalid(
            "upid",
            "This task is not one of this container's.",
        ));
    }
    let status = node
        .client
        .task_status(&upid)
        .await
        .map_err(|e| node.unreachable(e))?;
    let page = node
        .client
        .task_log(&upid, 0, LOG_LINES)
        .await
        .map_err(|e| node.unreachable(e))?;
    let lines = page.lines.into_iter().map(|line| line.t).collect();
    Ok(TaskLog {
        upid: upid.as_str().to_owned(),
        lines,
        state: state_of(&status),
    })
}

/// The task a power action started, once it ended.
pub fn finished(upid: &Upid, outcome: &TaskOutcome) -> NodeTask {
    NodeTask {
        upid: upid.as_str().to_owned(),
        kind: upid.task_type.clone(),
        started: started_text(upid.starttime),
        user: upid.user.clone(),
        state: outcome_state(outcome),
    }
}

async fn open(
    db: &DbPool,
    secrets: &SecretBox,
    id: ContainerId,
) -> Result<(ContainerRow, NodeSession), ServiceError> {
    let row = {
        let mut conn = super::conn(db).await?;
        ContainerRow::find(&mut conn, id).await?
    };
    let node = NodeSession::open(db, secrets, row.node_id).await?;
    Ok((row, node))
}

fn listed(task: &TaskListEntry) -> NodeTask {
    let user = match task.upid.parse::<Upid>() {
        Ok(upid) => upid.user,
        Err(_) => task.user.clone(),
    };
    NodeTask {
        upid: task.upid.clone(),
        kind: task.task_type.clone(),
        started: started_text(task.starttime),
        user,
        state: match task.status.as_deref() {
            None => TaskState::Running,
            Some(exit) if exit.eq_ignore_ascii_case("running") => TaskState::Running,
            Some(exit) => outcome_state(&TaskOutcome::from_exit_status(exit)),
        },
    }
}

fn state_of(status: &TaskStatus) -> TaskState {
    status
        .outcome()
        .map_or(TaskState::Running, |outcome| outcome_state(&outcome))
}

fn outcome_state(outcome: &TaskOutcome) -> TaskState {
    match outcome {
        TaskOutcome::Ok => TaskState::Ok,
        TaskOutcome::Warnings(count) => TaskState::Warnings { count: *count },
        TaskOutcome::Failed(message) => TaskState::Failed {
            message: message.clone(),
        },
    }
}

fn started_text(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}
