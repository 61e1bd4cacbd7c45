//! Logging for both binaries: to stderr, filtered by `RUST_LOG`, as text or as JSON lines.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `INFRAHAUS_LOG_FORMAT` | `text` (for people) or `json` (one object per line, for a log shipper) | `text` |
//! | `RUST_LOG` | which events are written | `info` |
//!
//! In JSON each line carries the event's fields at the top level and the fields of the spans it
//! happened in under `span` (the innermost) and `spans` (outermost first): a worker's lines
//! carry `container.id` (span `job`), `node`, `vmid` and `hostname` (span `pipeline`) and `phase`
//! (span `phase`).

use crate::config::{ConfigError, var_or};

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn from_env() -> Result<Self, ConfigError> {
        match var_or("INFRAHAUS_LOG_FORMAT", "text")?.trim() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(ConfigError::Malformed {
                name: "INFRAHAUS_LOG_FORMAT",
                reason: format!("{other:?}: expected text or json"),
            }),
        }
    }
}

/// Installs the process's subscriber; `default_filter` applies when `RUST_LOG` is not set.
pub fn init(default_filter: &str) -> Result<(), ConfigError> {
    let format = LogFormat::from_env()?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
    Ok(())
}
