//! The built SPA: static files as they are (or their `.br`/`.gz` copy when the browser accepts
//! it, with the caching headers of [`crate::asset_cache`]), every other path answered with
//! `index.html` for a signed-in user and a redirect to the login page for anyone else. While sessions cannot be
//! checked (database away) the page is served as it is: its API calls answer 503 and the app
//! shows that, instead of sending the user to the login page.

use crate::auth::{SessionCheck, check_session};
use app::ssr::ServerContext;
use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use http::{HeaderValue, StatusCode, header};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;

/// Paths of the SPA that need no session.
const PUBLIC_PAGES: &[&str] = &["/login"];

#[derive(Clone)]
struct SpaState {
    ctx: ServerContext,
    index: PathBuf,
}

/// Static files from `site_root`, falling back to the guarded index page.
pub fn service(site_root: &Path, ctx: ServerContext) -> Router {
    let state = SpaState {
        ctx,
        index: site_root.join("index.html"),
    };
    let index = Router::new().fallback(get(index_page)).with_state(state);
    Router::new()
        .fallback_service(
            ServeDir::new(site_root)
                .append_index_html_on_directories(false)
                .precompressed_br()
                .precompressed_gzip()
                .fallback(index),
        )
        .layer(axum::middleware::from_fn(crate::asset_cache::cache_headers))
}

async fn index_page(State(state): State<SpaState>, jar: CookieJar, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if !PUBLIC_PAGES.contains(&path.as_str())
        && matches!(
            check_session(&state.ctx, &jar).await,
            SessionCheck::Anonymous
        )
    {
        let next = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let target = if next == "/" {
            "/login".to_owned()
        } else {
            format!(
                "/login?next={}",
                utf8_percent_encode(next, NON_ALPHANUMERIC)
            )
        };
        return Redirect::to(&target).into_response();
    }
    match tokio::fs::read(&state.index).await {
        Ok(html) => {
            let csp = crate::headers::csp_for_index(&String::from_utf8_lossy(&html));
            let mut response = (StatusCode::OK, html).into_response();
            let headers = response.headers_mut();
            if let Ok(csp) = HeaderValue::from_str(&csp) {
                headers.insert(header::CONTENT_SECURITY_POLICY, csp);
            }
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        Err(e) => {
            tracing::error!(path = %state.index.display(), error = %e, "the SPA is not built");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The web app is not built yet (run trunk build).",
            )
                .into_response()
        }
    }
}
