//! Running one command: its limits, its result, and (in the submodules) how it is read.

mod pid_header;
mod run;
mod sink;

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::error::RemoteError;

pub(crate) use run::{Launch, RunError, run};
pub(crate) use sink::Sink;

/// Limits for one command.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// How long the command may run before it is sent SIGKILL and abandoned.
    pub timeout: Duration,
    /// Most bytes kept per stream by `exec_capture`; the rest is counted as truncated.
    pub output_limit: usize,
}

impl Default for ExecOptions {
    /// Ten minutes, 1 MiB per stream.
    fn default() -> Self {
        ExecOptions {
            timeout: Duration::from_secs(600),
            output_limit: 1 << 20,
        }
    }
}

impl ExecOptions {
    /// The defaults with another timeout.
    pub fn with_timeout(timeout: Duration) -> Self {
        ExecOptions {
            timeout,
            ..ExecOptions::default()
        }
    }
}

/// The exit code of a command that exited normally (one ended by a signal is an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExitStatus(pub u32);

impl ExitStatus {
    /// Whether the code is 0.
    pub fn success(self) -> bool {
        self.0 == 0
    }

    /// The exit code.
    pub fn code(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

/// What `exec_capture` returns: the status and both streams, each cut at the output limit.
#[derive(Clone, Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    program: String,
}

impl Output {
    /// Whether the command exited with 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Standard output as text, invalid UTF-8 replaced.
    pub fn stdout_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    /// Standard error as text, invalid UTF-8 replaced.
    pub fn stderr_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }

    /// `self` if the command succeeded, otherwise [`RemoteError::CommandFailed`] carrying the
    /// end of its standard error.
    pub fn checked(self) -> Result<Output, RemoteError> {
        if self.success() {
            return Ok(self);
        }
        const TAIL: usize = 2048;
        let stderr = self.stderr_lossy();
        let mut start = stderr.len().saturating_sub(TAIL);
        while !stderr.is_char_boundary(start) {
            start += 1;
        }
        Err(RemoteError::CommandFailed {
            program: self.program.clone(),
            code: self.status.code(),
            stderr: stderr[start..].trim_end().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{ExitStatus, Output};
    use crate::RemoteError;

    fn output(code: u32, stderr: &str) -> Output {
        Output {
            status: ExitStatus(code),
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
            stdout_truncated: false,
            stderr_truncated: false,
            program: "false".into(),
        }
    }

    #[test]
    fn checked_passes_success_and_reports_failure() {
        assert!(output(0, "").checked().is_ok());
        let err = output(2, "no such thing\n").checked().unwrap_err();
        assert!(
            matches!(&err, RemoteError::CommandFailed { code: 2, stderr, .. } if stderr == "no such thing"),
            "{err:?}"
        );
    }

    #[test]
    fn checked_keeps_the_tail_of_long_stderr() {
        let long = format!("{}é end", "x".repeat(5000));
        let RemoteError::CommandFailed { stderr, .. } = output(1, &long).checked().unwrap_err()
        else {
            panic!("wrong error");
        };
        assert!(stderr.len() <= 2048 && stderr.ends_with("é end"));
    }
}
