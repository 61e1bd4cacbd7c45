//! Refuses state-changing requests that a page on another site made the browser send.
//!
//! The session cookie is `SameSite=Lax`, which already keeps it off cross-site POSTs in current
//! browsers; this check is the second line: any non-GET request whose `Origin` is not this host,
//! or that the browser marks `Sec-Fetch-Site: cross-site`/`same-site`, gets 403.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};

pub async fn refuse_cross_origin(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && is_cross_origin(req.headers()) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "refused a cross-origin request");
        return (StatusCode::FORBIDDEN, "Cross-origin request refused.").into_response();
    }
    next.run(req).await
}

/// True when the headers show the request came from a page on another origin.
pub fn is_cross_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && (site == "cross-site" || site == "same-site")
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    origin == "null" || origin_authority.is_empty() || !origin_authority.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn origins() {
        assert!(!is_cross_origin(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(!is_cross_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(is_cross_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ])));
        assert!(is_cross_origin(&headers(&[
            ("host", "a:1"),
            ("origin", "null")
        ])));
        assert!(is_cross_origin(&headers(&[
            ("host", "a:1"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!is_cross_origin(&headers(&[
            ("host", "a:1"),
            ("sec-fetch-site", "same-origin")
        ])));
    }
}
