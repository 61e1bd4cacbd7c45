//! The server binary's subcommands.

pub mod node;
pub mod pve_check;
pub mod serve;
pub mod templates;
pub mod user;

use backend::config::BackendConfig;

/// Logs to stderr; `RUST_LOG` filters (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// `server migrate`.
pub async fn migrate() -> anyhow::Result<()> {
    let config = BackendConfig::from_env()?;
    backend::db::run_migrations(&config.database_url).await?;
    tracing::info!("migrations applied");
    Ok(())
}
