//! The state server functions run with, provided by the server for each request.

use crate::error::AppError;
use backend::crypto::SecretBox;
use backend::db::{DbConn, DbPool};
use backend::events::ProgressHub;
use backend::queue::Queue;
use backend::redis::RedisClient;
use leptos::prelude::use_context;

/// Everything a server function may need; cheap to clone.
#[derive(Clone)]
pub struct ServerContext {
    pub db: DbPool,
    pub redis: RedisClient,
    /// The process's one Redis subscriber, shared by every open progress stream.
    pub progress: ProgressHub,
    pub secrets: SecretBox,
    /// The creation job queue the workers read.
    pub queue: Queue,
    /// How long a login lasts.
    pub session_lifetime: chrono::Duration,
    /// Set the cookie's `Secure` flag (the app is served over HTTPS).
    pub secure_cookies: bool,
    /// The folder "Discover templates" reads (`INFRAHAUS_TEMPLATES_DIR`).
    pub templates_dir: std::path::PathBuf,
}

impl ServerContext {
    /// The context of the current request.
    pub fn get() -> Result<Self, AppError> {
        use_context::<ServerContext>().ok_or_else(|| {
            tracing::error!("server function called without a ServerContext");
            AppError::Internal
        })
    }

    /// A database connection, or a clear "unavailable" error.
    pub async fn conn(&self) -> Result<DbConn, AppError> {
        self.db.get().await.map_err(|e| {
            tracing::error!(error = %e, "no database connection");
            AppError::Unavailable("The database is not reachable right now.".into())
        })
    }
}
