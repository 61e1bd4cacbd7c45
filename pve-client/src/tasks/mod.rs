//! PVE worker tasks: status, log, the node's task list, and waiting for a task to end.

mod upid;
mod wait;

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

pub use upid::Upid;

use crate::client::PveClient;
use crate::decode::{number_or_string, opt_number_or_string, opt_string_or_number};
use crate::error::PveError;

/// Whether a task still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Running,
    Stopped,
}

/// How a finished task ended, read from its exit status text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskOutcome {
    /// `OK`.
    Ok,
    /// `WARNINGS: n`: succeeded, with `n` warnings in the log.
    Warnings(u32),
    /// Anything else: the error text.
    Failed(String),
}

static WARNINGS_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^WARNINGS: (\d+)$").expect("valid regex"));

impl TaskOutcome {
    /// Classifies an exit status the way PVE does (`OK` or `WARNINGS: n` are success).
    pub fn from_exit_status(text: &str) -> Self {
        let text = text.trim();
        if text == "OK" {
            return TaskOutcome::Ok;
        }
        match WARNINGS_RE.captures(text).and_then(|c| c[1].parse().ok()) {
            Some(n) => TaskOutcome::Warnings(n),
            None => TaskOutcome::Failed(text.to_owned()),
        }
    }

    /// True for `Ok` and `Warnings`.
    pub fn is_success(&self) -> bool {
        !matches!(self, TaskOutcome::Failed(_))
    }
}

/// `GET /nodes/{node}/tasks/{upid}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub upid: String,
    pub node: String,
    pub status: TaskState,
    /// Only when stopped: `OK`, `WARNINGS: n` or the error text.
    #[serde(default)]
    pub exitstatus: Option<String>,
    #[serde(rename = "type")]
    pub task_type: String,
    /// Always a string on the wire, even for VMIDs.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub id: Option<String>,
    /// `user@realm`; for token tasks the token name is in `tokenid`.
    pub user: String,
    #[serde(default)]
    pub tokenid: Option<String>,
    #[serde(deserialize_with = "number_or_string")]
    pub pid: u32,
    #[serde(deserialize_with = "number_or_string")]
    pub pstart: u64,
    #[serde(deserialize_with = "number_or_string")]
    pub starttime: i64,
}

impl TaskStatus {
    /// `None` while running, else how the task ended.
    pub fn outcome(&self) -> Option<TaskOutcome> {
        match self.status {
            TaskState::Running => None,
            TaskState::Stopped => Some(TaskOutcome::from_exit_status(
                self.exitstatus.as_deref().unwrap_or("unexpected status"),
            )),
        }
    }
}

/// One line of a task log; `n` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLogLine {
    #[serde(deserialize_with = "number_or_string")]
    pub n: u64,
    pub t: String,
}

/// One page of a task log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLogPage {
    pub lines: Vec<TaskLogLine>,
    /// Lines in the whole log, as PVE counts them.
    pub total: Option<u64>,
}

/// One row of `GET /nodes/{node}/tasks` (here `status` holds the exit text when finished).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskListEntry {
    pub upid: String,
    pub node: String,
    #[serde(rename = "type")]
    pub task_type: String,
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub id: Option<String>,
    pub user: String,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub pid: Option<u32>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(deserialize_with = "number_or_string")]
    pub starttime: i64,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub endtime: Option<i64>,
}

/// Which tasks `GET /nodes/{node}/tasks` lists (PVE's own filters; `None` leaves one out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Only the tasks of this guest.
    pub vmid: Option<u32>,
    /// Only tasks started at or after this Unix time.
    pub since: Option<i64>,
    /// At most this many (PVE's default is 50).
    pub limit: Option<u32>,
    /// Running tasks too (PVE lists only finished ones by default).
    pub include_running: bool,
}

impl TaskFilter {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(vmid) = self.vmid {
            query.push(("vmid", vmid.to_string()));
        }
        if let Some(since) = self.since {
            query.push(("since", since.to_string()));
        }
        if let Some(limit) = self.limit {
            query.push(("limit", limit.to_string()));
        }
        if self.include_running {
            query.push(("source", "all".to_owned()));
        }
        query
    }
}

impl PveClient {
    /// `GET /nodes/{upid.node}/tasks/{upid}/status`.
    pub async fn task_status(&self, upid: &Upid) -> Result<TaskStatus, PveError> {
        self.get(
            &["nodes", &upid.node, "tasks", upid.as_str(), "status"],
            &[],
        )
        .await
    }

    /// `GET .../tasks/{upid}/log?start=&limit=`: lines after the first `start`.
    pub async fn task_log(
        &self,
        upid: &Upid,
        start: u64,
        limit: u64,
    ) -> Result<TaskLogPage, PveError> {
        let answer = self
            .call::<Vec<TaskLogLine>>(
                reqwest::Method::GET,
                &["nodes", &upid.node, "tasks", upid.as_str(), "log"],
                &[("start", start.to_string()), ("limit", limit.to_string())],
                None,
            )
            .await?;
        Ok(TaskLogPage {
            lines: answer.data,
            total: answer.total,
        })
    }

    /// `GET /nodes/{node}/tasks`: recent tasks on a node.
    pub async fn node_tasks(&self, node: &str) -> Result<Vec<TaskListEntry>, PveError> {
        self.get(&["nodes", node, "tasks"], &[]).await
    }

    /// `GET /nodes/{node}/tasks` with filters, newest first.
    pub async fn node_tasks_where(
        &self,
        node: &str,
        filter: &TaskFilter,
    ) -> Result<Vec<TaskListEntry>, PveError> {
        self.get(&["nodes", node, "tasks"], &filter.query()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_classification() {
        assert_eq!(TaskOutcome::from_exit_status("OK"), TaskOutcome::Ok);
        assert_eq!(
            TaskOutcome::from_exit_status("WARNINGS: 3"),
            TaskOutcome::Warnings(3)
        );
        assert_eq!(
            TaskOutcome::from_exit_status("WARNINGS: many"),
            TaskOutcome::Failed("WARNINGS: many".into())
        );
        assert!(!TaskOutcome::from_exit_status("unexpected status").is_success());
    }
}
