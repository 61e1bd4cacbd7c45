//! The server binary's subcommands.

pub mod node;
pub mod pve_check;
pub mod serve;
pub mod templates;
pub mod user;

use backend::config::BackendConfig;

/// Logs to stderr as text or JSON (see [`backend::logging`]); `RUST_LOG` filters (default `info`).
pub fn init_tracing() -> anyhow::Result<()> {
    backend::logging::init("info,tower_http=info")?;
    Ok(())
}

/// `server migrate`.
pub async fn migrate() -> anyhow::Result<()> {
    let config = BackendConfig::from_env()?;
    backend::db::run_migrations(&config.database_url).await?;
    tracing::info!("migrations applied");
    Ok(())
}
