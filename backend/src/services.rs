//! What the server functions, the worker and the preflight do with nodes and containers, as
//! services over the models: each returns a [`ServiceError`] that says, in words for the user,
//! what went wrong and what kind of failure it is, so every caller maps it the same way.
//!
//! - [`nodes`]: a session with one stored node (client + its Proxmox name), the wizard's view of
//!   it, VMID checks, and the settings page's save, delete and connection test.
//! - [`containers`]: power actions, delete and retry of a container, with the progress events
//!   they write.
//! - [`templates`]: saving a template from the editor.
//! - [`cancel`]: cancelling a creation, and whether a worker holds it.
//! - [`status`]: live status and usage of containers, from pollers shared by every viewer.
//! - [`node_tasks`]: a container's Proxmox tasks and their logs.
//! - [`users`]: the users page's accounts (list, add, disable, reset, role) and changing one's
//!   own password.
//! - [`credentials`]: revealing a container's credential, for whom it may, with an audit record.
//! - [`activity`]: the audit record as the container page and the users page show it.
//! - [`updates`]: re-applying a ready container's template as an update run.
//! - [`health`]: a container's last service-health report, and asking a worker for a check.

pub mod activity;
pub mod cancel;
pub mod containers;
pub mod credentials;
pub mod health;
pub mod node_tasks;
pub mod nodes;
pub mod status;
pub mod templates;
pub mod updates;
pub mod users;

/// Why a service call did not go through. The texts are written for the person using the app.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A field of the request is wrong; `field` names it as the form does.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The account may not do this; the text says who may ("Only admins can …").
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// The request clashes with the current state (still creating, has containers, …).
    #[error("{0}")]
    Conflict(String),
    /// A dependency (database, Redis, a Proxmox node) is away or refused; the text says which.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or a broken installation; the text is for the log, never for the user.
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => ServiceError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                ServiceError::Unavailable("The database is not reachable right now.".into())
            }
            other => ServiceError::Internal(format!("database error: {other}")),
        }
    }
}

impl From<fred::error::Error> for ServiceError {
    fn from(err: fred::error::Error) -> Self {
        tracing::error!(error = %err, "Redis error");
        ServiceError::Unavailable("Redis is not reachable right now.".into())
    }
}

impl From<crate::crypto::CryptoError> for ServiceError {
    fn from(err: crate::crypto::CryptoError) -> Self {
        ServiceError::Internal(format!("could not open a stored secret: {err}"))
    }
}

/// How long a service waits for a database connection: a database that drops packets would
/// otherwise hold the caller for the whole TCP connect timeout.
pub const DB_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A connection from `db`, or [`ServiceError::Unavailable`] within [`DB_WAIT`].
pub async fn conn(db: &crate::db::DbPool) -> Result<crate::db::DbConn, ServiceError> {
    let unavailable =
        || ServiceError::Unavailable("The database is not reachable right now.".into());
    match tokio::time::timeout(DB_WAIT, db.get()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "no database connection");
            Err(unavailable())
        }
        Err(_) => {
            tracing::error!("no database connection within {DB_WAIT:?}");
            Err(unavailable())
        }
    }
}
