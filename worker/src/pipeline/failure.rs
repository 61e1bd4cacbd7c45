//! [`Failure`]: how a pipeline step can end other than by finishing.

use std::fmt::Display;

use crate::runner::StopReason;

/// Why the pipeline stopped.
#[derive(Debug)]
pub enum Failure {
    /// The container cannot be created as asked; the message tells the user what to do.
    Failed(String),
    /// A stop was requested and the pipeline reached a checkpoint.
    Stopped(StopReason),
    /// The worker's own services failed (database, event store); the job is retried later.
    Infra(String),
}

impl Failure {
    pub fn failed(message: impl Into<String>) -> Self {
        Failure::Failed(message.into())
    }
}

impl From<backend::events::EventError> for Failure {
    fn from(e: backend::events::EventError) -> Self {
        Failure::Infra(e.to_string())
    }
}

/// `.infra("what")?` turns a database or pool error into [`Failure::Infra`].
pub trait InfraExt<T> {
    fn infra(self, what: &str) -> Result<T, Failure>;
}

impl<T, E: Display> InfraExt<T> for Result<T, E> {
    fn infra(self, what: &str) -> Result<T, Failure> {
        self.map_err(|e| Failure::Infra(format!("{what}: {e}")))
    }
}
