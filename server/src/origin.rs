//! Refuses state-changing requests that a page on another site made the browser send.
//!
//! The session cookie is `SameSite=Lax`, which already keeps it off cross-site POSTs in current
//! browsers; this check is the second line: any non-GET request whose `Origin` is not one of
//! this server's origins ([`HostPolicy`]), or that the browser marks
//! `Sec-Fetch-Site: cross-site`/`same-site`, gets 403.

use crate::host::HostPolicy;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, Method, header};

pub async fn refuse_cross_origin(
    State(policy): State<HostPolicy>,
    req: Request,
    next: Next,
) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && is_cross_origin(&policy, req.headers()) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "refused a cross-origin request");
        return crate::refusal::cross_origin();
    }
    next.run(req).await
}

/// True when the headers show the request came from a page on another origin.
pub fn is_cross_origin(policy: &HostPolicy, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && (site == "cross-site" || site == "same-site")
    {
        return true;
    }
    match headers.get(header::ORIGIN) {
        None => false,
        Some(origin) => !origin.to_str().is_ok_and(|o| policy.allows_origin(o)),
    }
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
        let policy = HostPolicy::loopback("127.0.0.1:8080".parse().unwrap());
        let cross =
            |pairs: &[(&'static str, &'static str)]| is_cross_origin(&policy, &headers(pairs));
        assert!(!cross(&[("host", "127.0.0.1:8080")]));
        assert!(!cross(&[("origin", "http://127.0.0.1:8080")]));
        assert!(!cross(&[("origin", "http://localhost:8080")]));
        assert!(cross(&[("origin", "http://evil.example")]));
        // A forged Host with a matching Origin is still another site.
        assert!(cross(&[
            ("host", "evil.test"),
            ("origin", "http://evil.test")
        ]));
        assert!(cross(&[("origin", "https://127.0.0.1:8080")]));
        assert!(cross(&[("origin", "null")]));
        assert!(cross(&[("sec-fetch-site", "cross-site")]));
        assert!(!cross(&[("sec-fetch-site", "same-origin")]));
    }
}
