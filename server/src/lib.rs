//! The infrahaus web server: the built SPA, the server functions under `/api`, and (later) the
//! progress stream. [`router`] builds the whole app so tests can serve it on port 0.
//!
//! # Layout
//! - [`config`]: environment variables for the server.
//! - [`auth`]: the session layer (401 for API calls, redirect to login for pages).
//! - [`origin`]: refuses state-changing requests from other sites.
//! - [`spa`]: static files and the SPA's index page.

pub mod auth;
pub mod config;
pub mod origin;
pub mod progress;
pub mod spa;

use app::ssr::ServerContext;
use axum::Router;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::path::Path;
use tokio::net::TcpListener;

/// Server functions reachable without a session.
pub const PUBLIC_API_PATHS: &[&str] = &["/api/login"];

/// The whole application router.
pub fn router(ctx: ServerContext, site_root: &Path) -> Router {
    let server_fns = {
        let ctx = ctx.clone();
        move |req: axum::extract::Request| {
            let ctx = ctx.clone();
            async move {
                leptos_axum::handle_server_fns_with_context(
                    move || leptos::prelude::provide_context(ctx.clone()),
                    req,
                )
                .await
            }
        }
    };
    let api = Router::new()
        .route(
            "/api/containers/{id}/progress",
            progress::route(ctx.clone()),
        )
        .route("/api/{*fn_name}", post(server_fns.clone()).get(server_fns))
        .route_layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            auth::require_session,
        ));
    Router::new()
        .merge(api)
        .route("/health", get(|| async { "ok" }))
        .fallback_service(spa::service(site_root, ctx.clone()))
        .layer(axum::middleware::from_fn(origin::refuse_cross_origin))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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
