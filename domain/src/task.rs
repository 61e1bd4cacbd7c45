//! Proxmox tasks of one container (create, start, shut down, restart, …), listed on its page
//! with their logs, and what a power action answers.

use serde::{Deserialize, Serialize};

/// How a Proxmox task stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TaskState {
    Running,
    Ok,
    /// Succeeded with this many warnings in its log.
    Warnings {
        count: u32,
    },
    /// Failed; `message` is Proxmox's exit status.
    Failed {
        message: String,
    },
}

impl TaskState {
    pub fn text(&self) -> String {
        match self {
            TaskState::Running => "running".into(),
            TaskState::Ok => "OK".into(),
            TaskState::Warnings { count } => format!("OK with {count} warnings"),
            TaskState::Failed { message } => format!("failed: {message}"),
        }
    }
}

/// One Proxmox task of a container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeTask {
    /// The task's id on the node (`UPID:node:…`), to read its log with.
    pub upid: String,
    /// Proxmox's task type, e.g. `vzreboot`.
    pub kind: String,
    /// When it started, `YYYY-MM-DD HH:MM:SS UTC`.
    pub started: String,
    /// Who started it in Proxmox (`user@realm`, or `user@realm!token`).
    pub user: String,
    pub state: TaskState,
}

impl NodeTask {
    /// What the task did, in the words of the buttons: `Restart`, `Shut down`, …
    pub fn label(&self) -> String {
        task_label(&self.kind)
    }
}

/// A task type in words (`vzreboot` → `Restart`); an unknown one as it is.
pub fn task_label(kind: &str) -> String {
    match kind {
        "vzcreate" => "Create",
        "vzstart" => "Start",
        "vzshutdown" => "Shut down",
        "vzstop" => "Stop",
        "vzreboot" => "Restart",
        "vzdestroy" => "Destroy",
        other => other,
    }
    .to_owned()
}

/// The log of one task, as far as it is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLog {
    pub upid: String,
    pub lines: Vec<String>,
    pub state: TaskState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_read_in_words() {
        assert_eq!(task_label("vzreboot"), "Restart");
        assert_eq!(task_label("vzdump"), "vzdump");
        assert_eq!(
            TaskState::Warnings { count: 2 }.text(),
            "OK with 2 warnings"
        );
        assert_eq!(
            TaskState::Failed {
                message: "container did not stop".into()
            }
            .text(),
            "failed: container did not stop"
        );
    }
}
