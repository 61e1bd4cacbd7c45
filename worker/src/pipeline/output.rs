//! Running a command in the container with each output line stored as a `log` event.

use std::collections::VecDeque;

use backend::events::EventSink;
use domain::event::LogStream;
use remote_shell::{
    AnyTarget, Command, ExecOptions, ExitStatus, OutputLine, RemoteError, RemoteTarget, Stream,
};
use tokio::sync::mpsc;

use super::failure::Failure;

/// Lines kept for an error message.
const TAIL_LINES: usize = 12;

/// The end of a command's output, for an error message.
#[derive(Debug, Default)]
pub struct Tail(VecDeque<String>);

impl Tail {
    fn push(&mut self, line: &str) {
        if self.0.len() == TAIL_LINES {
            self.0.pop_front();
        }
        self.0.push_back(line.to_owned());
    }

    /// `" Last output:\n…"`, or nothing when there was no output.
    pub fn as_suffix(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let lines: Vec<&str> = self.0.iter().map(String::as_str).collect();
        format!(" Last output:\n{}", lines.join("\n"))
    }
}

/// Runs `cmd`, storing each line of its output as a log event (the sink batches them), and
/// returns its exit status with the last lines.
pub async fn run_logged(
    target: &AnyTarget,
    sink: &EventSink,
    cmd: &Command,
    opts: &ExecOptions,
) -> Result<Result<(ExitStatus, Tail), RemoteError>, Failure> {
    let (tx, mut rx) = mpsc::channel::<OutputLine>(256);
    let exec = async move {
        let status = target.exec(cmd, opts, &tx).await;
        drop(tx);
        status
    };
    let forward = async {
        let mut tail = Tail::default();
        let mut stored = Ok(());
        while let Some(line) = rx.recv().await {
            let mut text = line.text;
            if line.truncated {
                text.push('…');
            }
            tail.push(&text);
            let stream = match line.stream {
                Stream::Stdout => LogStream::Stdout,
                Stream::Stderr => LogStream::Stderr,
            };
            if stored.is_ok() {
                stored = sink.log(stream, &text).await;
            }
        }
        (tail, stored)
    };
    let (status, (tail, stored)) = tokio::join!(exec, forward);
    stored?;
    Ok(status.map(|status| (status, tail)))
}
