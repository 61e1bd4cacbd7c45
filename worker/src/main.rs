//! `worker`: connects to PostgreSQL and Redis and runs creation jobs until SIGTERM or Ctrl-C.

mod config;

use backend::crypto::SecretBox;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let config = config::WorkerConfig::from_env()?;
    tracing::info!(?config, "starting");
    backend::db::run_migrations(&config.backend.database_url).await?;
    let db = backend::db::pool(&config.backend.database_url, config.concurrency + 2)?;
    drop(
        db.get()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach PostgreSQL (DATABASE_URL): {e}"))?,
    );
    let _redis = backend::redis::connect(&config.backend.redis_url).await?;
    let _secrets = SecretBox::load_or_create(&config.backend.secret_key_file)?;
    tracing::info!(concurrency = config.concurrency, "ready for jobs");

    shutdown_signal().await;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler cannot fail on Unix");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
