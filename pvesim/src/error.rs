//! Errors that stop the simulator from starting.

use std::path::PathBuf;

/// Why the simulator could not start (or a configuration value could not be parsed).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("bubblewrap (`bwrap`) was not found on PATH; install the Debian package `bubblewrap`")]
    BwrapMissing,
    #[error("cannot use state directory {path}: {source}")]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read state file {path}: {message}")]
    StateFile { path: PathBuf, message: String },
    #[error("cannot bind {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("SSH key error: {0}")]
    Key(String),
    #[error("invalid {what} '{value}': {reason}")]
    InvalidSpec {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
