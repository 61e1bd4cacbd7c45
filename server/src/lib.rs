//! The infrahaus web server: the built SPA, the server functions under `/api`, and (later) the
//! progress stream. [`router`] builds the whole app so tests can serve it on port 0.
//!
//! # Layout
//! - [`config`]: environment variables for the server.
//! - [`auth`]: the session layer (401 for API calls, redirect to login for pages).
//! - [`host`]: the host names and origins the server answers to.
//! - [`origin`]: refuses state-changing requests from other sites.
//! - [`headers`]: Content-Security-Policy and the other security headers.
//! - [`refusal`]: the error responses the server builds itself.
//! - [`spa`]: static files and the SPA's index page.
//! - [`metrics`]: `/metrics` (Prometheus) and `/ready`, and what the server records.
//! - [`connections`]: the plain listener's connections (HTTP/1.1 or h2c by their first bytes).
//! - [`stream_connections`]: HTTP/1.1 connections that open with a progress stream, served
//!   without hyper; [`lean_socket`]: their sending side, which the progress hub may write to;
//!   [`keep_alive_handoff`]: keep-alive connections handed over to them when a later request
//!   opens a progress stream.
//! - [`tls`]: TLS terminated by the server (HTTP/2 and HTTP/1.1 by ALPN).
//!
//! Both listeners speak HTTP/1.1 and HTTP/2: in the clear, HTTP/2 with prior knowledge (h2c,
//! for a reverse proxy that speaks it).

pub mod asset_cache;
pub mod auth;
pub mod config;
pub mod connections;
pub mod headers;
pub mod host;
pub mod keep_alive_handoff;
pub mod lean_socket;
pub mod metrics;
pub mod origin;
pub mod progress;
pub mod refusal;
pub mod spa;
pub mod stream_connections;
pub mod tls;

pub use host::HostPolicy;

use app::ssr::ServerContext;
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use std::path::Path;
use tokio::net::TcpListener;

/// Server functions reachable without a session.
pub const PUBLIC_API_PATHS: &[&str] = &["/api/login"];

/// The whole application router. Requests pass, outermost first: tracing, the host check, the
/// security headers, the cross-origin check, then (under `/api`) the session layer.
pub fn router(ctx: ServerContext, site_root: &Path, hosts: HostPolicy) -> Router {
    let registered: std::sync::Arc<std::collections::HashSet<(&'static str, http::Method)>> =
        std::sync::Arc::new(server_fn::axum::server_fn_paths().collect());
    let server_fns = {
        let ctx = ctx.clone();
        move |req: axum::extract::Request| {
            let ctx = ctx.clone();
            let registered = registered.clone();
            async move {
                let path = req.uri().path();
                if !registered.contains(&(path, req.method().clone())) {
                    let error = if registered.iter().any(|(p, _)| *p == path) {
                        app::error::AppError::BadRequest("This call takes POST requests.".into())
                    } else {
                        app::error::AppError::NotFound
                    };
                    return refusal::respond(&error);
                }
                leptos_axum::handle_server_fns_with_context(
                    move || leptos::prelude::provide_context(ctx.clone()),
                    req,
                )
                .await
                .into_response()
            }
        }
    };
    let api = Router::new()
        .route(progress::ROUTE, progress::route(ctx.clone()))
        .route(
            "/api/{*fn_name}",
            post(server_fns.clone())
                .get(server_fns)
                .layer(axum::middleware::from_fn(refusal::server_fn_status)),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            auth::require_session,
        ));
    Router::new()
        .merge(api)
        .route("/health", get(|| async { "ok" }))
        .merge(metrics::routes(ctx.clone()))
        .fallback_service(spa::service(site_root, ctx.clone()))
        .layer(axum::middleware::from_fn_with_state(
            hosts.clone(),
            origin::refuse_cross_origin,
        ))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            host::require_known_host,
        ))
        .layer(axum::middleware::from_fn(metrics::observe))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves `router` on `listener` (HTTP/1.1 and h2c, see [`connections`]) until `shutdown`
/// completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    connections::serve(listener, None, router, shutdown).await
}

/// Serves `router` over TLS (`acceptor`, see [`tls::TlsIdentity`]) on `listener` until
/// `shutdown` completes.
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    connections::serve(listener, Some(acceptor), router, shutdown).await
}

/// Serves the app on a free port of 127.0.0.1 in the background (tests, benchmarks); returns
/// its base URL, `http://127.0.0.1:PORT`.
pub async fn spawn_on_loopback(ctx: ServerContext, site_root: &Path) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = router(ctx, site_root, HostPolicy::loopback(address));
    tokio::spawn(serve(listener, app, std::future::pending()));
    Ok(format!("http://{address}"))
}

/// Like [`spawn_on_loopback`], over TLS with `acceptor`; returns `https://127.0.0.1:PORT`.
pub async fn spawn_tls_on_loopback(
    ctx: ServerContext,
    site_root: &Path,
    acceptor: tokio_rustls::TlsAcceptor,
) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let url = format!("https://{address}");
    let app = router(ctx, site_root, HostPolicy::with_tls(&url, address));
    tokio::spawn(serve_tls(listener, acceptor, app, std::future::pending()));
    Ok(url)
}

/// Deletes expired sessions once an hour, for as long as the server runs.
pub fn spawn_session_sweeper(ctx: ServerContext) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Ok(mut conn) = ctx.db.get().await {
                match backend::models::Session::delete_expired(&mut conn, chrono::Utc::now()).await
                {
                    Ok(n) if n > 0 => tracing::info!(count = n, "removed expired sessions"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
                }
            }
        }
    });
}
