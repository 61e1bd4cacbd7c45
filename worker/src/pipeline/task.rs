//! Waiting for a Proxmox task with its log lines stored as `log` events.

use domain::event::LogStream;
use pve_client::{PveError, TaskOutcome, Upid};
use tokio::sync::mpsc;

use super::failure::Failure;
use super::job::Job;

/// Task log lines quoted in an error message.
const QUOTED_LINES: usize = 5;

impl Job<'_> {
    /// Waits for `upid`, storing its log lines as they appear. A failed task fails the job with
    /// `what` ("Creating the container"), the task's error and its last log lines.
    pub(super) async fn wait_task(&self, upid: &Upid, what: &str) -> Result<(), Failure> {
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let settings = &self.deps.settings;
        let wait = async move {
            self.pve()
                .wait_for_task(
                    upid,
                    settings.task_poll,
                    settings.task_timeout,
                    move |line| {
                        let _ = tx.send(line.t.clone());
                    },
                )
                .await
        };
        let forward = async {
            let mut stored = Ok(());
            while let Some(line) = rx.recv().await {
                if stored.is_ok() {
                    stored = self.sink.log(LogStream::Stdout, &line).await;
                }
            }
            stored
        };
        let (outcome, stored) = tokio::join!(wait, forward);
        stored?;
        match outcome {
            Ok(TaskOutcome::Warnings(n)) => {
                self.log(&format!(
                    "{what} finished with {n} warning(s); see the lines above."
                ))
                .await
            }
            Ok(_) => Ok(()),
            Err(e) => Err(Failure::failed(task_failure(what, &e))),
        }
    }
}

/// A user-facing message for a failed or timed-out task, with its last log lines.
pub(super) fn task_failure(what: &str, error: &PveError) -> String {
    let (headline, tail) = match error {
        PveError::TaskFailed {
            exit_status,
            log_tail,
            ..
        } => (format!("{what} failed: {exit_status}"), log_tail),
        PveError::TaskTimeout { log_tail, .. } => (format!("{what} failed: {error}"), log_tail),
        other => return format!("{what} failed: {other}"),
    };
    let lines: Vec<&str> = tail
        .iter()
        .map(String::as_str)
        .filter(|l| {
            !l.trim().is_empty() && !l.starts_with("TASK ERROR") && !l.starts_with("TASK OK")
        })
        .collect();
    if lines.is_empty() {
        return headline;
    }
    let start = lines.len().saturating_sub(QUOTED_LINES);
    format!(
        "{headline}\nLast lines of the Proxmox task log:\n{}",
        lines[start..].join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_task_is_quoted_with_its_last_log_lines() {
        let error = PveError::TaskFailed {
            upid: "UPID:pve:1:2:3:vzcreate:120:root@pam:".into(),
            exit_status: "unable to create CT 120 - lvcreate failed".into(),
            log_tail: (1..=8)
                .map(|i| format!("line {i}"))
                .chain(["".into(), "TASK ERROR: unable to create CT 120".into()])
                .collect(),
        };
        let message = task_failure("Creating the container", &error);
        assert_eq!(
            message,
            "Creating the container failed: unable to create CT 120 - lvcreate failed\n\
             Last lines of the Proxmox task log:\nline 4\nline 5\nline 6\nline 7\nline 8"
        );
        let bare = PveError::TaskFailed {
            upid: "u".into(),
            exit_status: "boom".into(),
            log_tail: vec!["TASK ERROR: boom".into()],
        };
        assert_eq!(
            task_failure("Starting the container", &bare),
            "Starting the container failed: boom"
        );
    }
}
