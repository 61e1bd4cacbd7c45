//! `server serve`: connect, migrate, and serve until Ctrl-C or SIGTERM.

use app::ssr::ServerContext;
use backend::crypto::SecretBox;
use server::config::ServerConfig;

pub async fn run() -> anyhow::Result<()> {
    let config = ServerConfig::from_env()?;
    tracing::info!(?config, "starting");
    backend::db::run_migrations(&config.backend.database_url).await?;
    let redis = backend::redis::connect(&config.backend.redis_url).await?;
    let queue = backend::queue::Queue::new(redis.clone());
    let ctx = ServerContext {
        db: backend::db::pool(&config.backend.database_url, 16)?,
        redis,
        queue,
        progress: backend::events::ProgressHub::connect(&config.backend.redis_url).await?,
        live: Default::default(),
        secrets: SecretBox::load_or_create(&config.backend.secret_key_file)?,
        session_lifetime: chrono::Duration::hours(config.session_hours),
        secure_cookies: config.secure_cookies(),
        templates_dir: backend::templates::configured_dir()?,
        trusted_proxies: config.trusted_proxies.clone().into(),
    };
    server::spawn_session_sweeper(ctx.clone());
    let hosts = if config.tls.is_some() {
        server::HostPolicy::with_tls(&config.public_url, config.listen)
    } else {
        server::HostPolicy::new(&config.public_url, config.listen)
    };
    let router = server::router(ctx, &config.site_root, hosts)
        .layer(axum::Extension(server::metrics::MetricsAllow::from_env()?));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot listen on {} (INFRAHAUS_LISTEN): {e}", config.listen)
        })?;
    match &config.tls {
        None => {
            tracing::info!(url = %config.public_url, "listening (HTTP/1.1, h2c)");
            server::serve(listener, router, shutdown_signal()).await?;
        }
        Some(source) => {
            let identity = server::tls::TlsIdentity::load(source)?;
            if identity.generated {
                tracing::info!(path = %identity.cert_path.display(), "generated a self-signed TLS certificate");
            }
            tracing::info!(
                url = %config.public_url,
                certificate = %identity.cert_path.display(),
                sha256 = %identity.fingerprint,
                "listening (TLS: HTTP/2, HTTP/1.1)"
            );
            // Printed as well, for the operator to compare with what the browser shows.
            println!(
                "TLS certificate {} SHA-256 fingerprint: {}",
                identity.cert_path.display(),
                identity.fingerprint
            );
            server::serve_tls(listener, identity.acceptor, router, shutdown_signal()).await?;
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
