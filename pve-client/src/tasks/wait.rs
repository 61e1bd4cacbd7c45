//! Waiting for a task while streaming its log.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{TaskLogLine, TaskOutcome, Upid};
use crate::client::PveClient;
use crate::error::PveError;

/// Log lines fetched per request.
const LOG_PAGE: u64 = 500;

/// Log lines kept for the error of a failed task.
const TAIL_LINES: usize = 10;

/// Feeds new log lines to the callback and remembers the last ones.
struct LogFollower<F> {
    /// Lines already delivered, i.e. the next `start`.
    seen: u64,
    tail: VecDeque<String>,
    on_line: F,
}

impl<F: FnMut(&TaskLogLine)> LogFollower<F> {
    async fn catch_up(&mut self, client: &PveClient, upid: &Upid) -> Result<(), PveError> {
        loop {
            let page = client.task_log(upid, self.seen, LOG_PAGE).await?;
            let count = page.lines.len() as u64;
            // PVE answers an empty log file with a placeholder line; it is not log content.
            let placeholder = count == 1
                && self.seen == 0
                && page.lines[0].n == 1
                && page.lines[0].t == "no content";
            if placeholder {
                return Ok(());
            }
            for line in page.lines {
                if line.n <= self.seen {
                    continue;
                }
                self.seen = line.n;
                if self.tail.len() == TAIL_LINES {
                    self.tail.pop_front();
                }
                self.tail.push_back(line.t.clone());
                (self.on_line)(&line);
            }
            if count < LOG_PAGE {
                return Ok(());
            }
        }
    }

    fn tail(&self) -> Vec<String> {
        self.tail.iter().cloned().collect()
    }
}

impl PveClient {
    /// Polls the task on the node named in its UPID every `interval` until it stops or
    /// `timeout` passes, handing each new log line to `on_log_line` as it appears.
    ///
    /// Returns the outcome for `OK` and `WARNINGS: n`; a failed task becomes
    /// [`PveError::TaskFailed`] with its exit status and last log lines.
    pub async fn wait_for_task<F>(
        &self,
        upid: &Upid,
        interval: Duration,
        timeout: Duration,
        on_log_line: F,
    ) -> Result<TaskOutcome, PveError>
    where
        F: FnMut(&TaskLogLine),
    {
        let deadline = Instant::now() + timeout;
        let mut log = LogFollower {
            seen: 0,
            tail: VecDeque::new(),
            on_line: on_log_line,
        };
        loop {
            // Status before log: once "stopped" is seen, the log read after it is complete.
            let status = self.task_status(upid).await?;
            log.catch_up(self, upid).await?;
            match status.outcome() {
                Some(TaskOutcome::Failed(exit_status)) => {
                    return Err(PveError::TaskFailed {
                        upid: upid.to_string(),
                        exit_status,
                        log_tail: log.tail(),
                    });
                }
                Some(success) => return Ok(success),
                None => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(PveError::TaskTimeout {
                    upid: upid.to_string(),
                    waited: timeout,
                    log_tail: log.tail(),
                });
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
        }
    }
}
