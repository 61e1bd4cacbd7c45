//! The PostgreSQL pool and the embedded migrations.

use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A pool of PostgreSQL connections.
pub type DbPool = Pool<AsyncPgConnection>;
/// A connection taken from the pool.
pub type DbConn = Object<AsyncPgConnection>;
/// Why a query failed (diesel's error), for callers outside the backend.
pub type QueryError = diesel::result::Error;

/// Why the database could not be reached or prepared.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not build the database pool: {0}")]
    Pool(String),
    #[error("could not connect to PostgreSQL: {0}")]
    Connect(String),
    #[error("could not apply migrations: {0}")]
    Migrate(String),
}

/// Builds a pool of at most `max_size` connections; no connection is opened until needed.
pub fn pool(database_url: &str, max_size: usize) -> Result<DbPool, DbError> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(database_url);
    Pool::builder(manager)
        .max_size(max_size)
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

/// Applies every pending migration. Runs the synchronous migration harness on a blocking thread.
pub async fn run_migrations(database_url: &str) -> Result<(), DbError> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| DbError::Connect(e.to_string()))?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| DbError::Migrate(e.to_string()))?;
        Ok(())
    })
    .await
    .map_err(|e| DbError::Migrate(e.to_string()))?
}
