//! [`RemoteError`]: every failure of this crate, as variants a user can act on.

use std::path::PathBuf;
use std::time::Duration;

use crate::host_key::HostKey;

/// Why a remote operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// No SSH connection could be made: refused, timed out, reset or closed during the
    /// handshake. The only kind [`connect_with_retry`](crate::connect_with_retry) retries.
    #[error("cannot reach {host}:{port} over SSH: {reason}")]
    Unreachable {
        host: String,
        port: u16,
        reason: String,
    },

    /// The server rejected the deploy key (and the password, if one was given).
    #[error("authentication as {user} on {host}:{port} failed: is the deploy key authorized?")]
    AuthFailed {
        host: String,
        port: u16,
        user: String,
    },

    /// The server presented another key than the pinned one(s); the connection was dropped
    /// before authentication.
    #[error(
        "host key of {host}:{port} changed: pinned {}, server presented {}",
        HostKey::fingerprints(expected),
        seen.fingerprint()
    )]
    HostKeyMismatch {
        host: String,
        port: u16,
        /// The pinned keys, at least one.
        expected: Vec<HostKey>,
        seen: HostKey,
    },

    /// An SSH-level failure that retrying will not fix (no common algorithm, protocol error,
    /// connection lost while a command ran).
    #[error("SSH error with {host}:{port}: {message}")]
    Protocol {
        host: String,
        port: u16,
        message: String,
    },

    /// A command ran longer than its timeout and was sent SIGKILL.
    #[error("`{program}` did not finish within {timeout:?}")]
    CommandTimedOut { program: String, timeout: Duration },

    /// A command was ended by a signal instead of exiting.
    #[error("`{program}` was killed by signal {signal}{}", if *core_dumped { " (core dumped)" } else { "" })]
    KilledBySignal {
        program: String,
        signal: String,
        core_dumped: bool,
    },

    /// The channel closed without an exit status or signal.
    #[error("`{program}` ended without reporting an exit status")]
    NoExitStatus { program: String },

    /// A command that had to succeed exited non-zero; `stderr` holds the end of its output.
    #[error("`{program}` exited with status {code}: {stderr}")]
    CommandFailed {
        program: String,
        code: u32,
        stderr: String,
    },

    /// A command argument holds a NUL byte, which no shell can pass on.
    #[error("an argument of `{program}` contains a NUL byte")]
    BadArgument { program: String },

    /// A path is relative, contains `..`, or otherwise cannot be used.
    #[error("bad remote path {path:?}: {reason}")]
    BadPath { path: String, reason: &'static str },

    /// The remote file or directory does not exist.
    #[error("{path}: no such file or directory")]
    NotFound { path: String },

    /// A file is larger than the caller allowed.
    #[error("{path} is larger than the limit of {limit} bytes")]
    TooLarge { path: String, limit: usize },

    /// An SFTP request failed.
    #[error("SFTP {op} {path} failed: {message}")]
    Sftp {
        op: &'static str,
        path: String,
        message: String,
    },

    /// A host key string could not be parsed.
    #[error("invalid host key: {0}")]
    InvalidHostKey(String),

    /// The deploy key file could not be read, created or parsed.
    #[error("deploy key {}: {message}", path.display())]
    DeployKey { path: PathBuf, message: String },
}

impl RemoteError {
    /// Whether trying to connect again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, RemoteError::Unreachable { .. })
    }
}
