//! Caching headers for the SPA's static files.
//!
//! The build names each asset after a hash of its content (`main-9dc44b76fefa2de5.css`, the split
//! app's folder `app-3f2a…/`), so such a file never changes under its name: browsers keep it a
//! year without asking again. Everything else (the index page, unhashed files) is revalidated on
//! each use. Files are served precompressed where the build wrote `.br`/`.gz` next to them, so
//! every response says that its body depends on `Accept-Encoding`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};

/// How long a hashed asset may be reused without asking again.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Adds `Vary: Accept-Encoding` and a `Cache-Control` (unless the response has one) to the
/// responses of the static files.
pub async fn cache_headers(req: Request, next: Next) -> Response {
    let hashed = is_hashed(req.uri().path());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        let policy = if hashed && response.status().is_success() {
            IMMUTABLE
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// True when a segment of `path` carries a content hash as the build writes it: a `-` followed
/// by at least 14 lowercase hex digits (Trunk writes 15 or 16; a UUID's last group has 12), then the
/// end of the segment, a `.` or a `_`.
pub fn is_hashed(path: &str) -> bool {
    path.split('/').any(|segment| {
        segment.match_indices('-').any(|(at, _)| {
            let rest = &segment[at + 1..];
            let digits = rest
                .bytes()
                .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
                .count();
            digits >= 14 && matches!(rest.as_bytes().get(digits), None | Some(b'.' | b'_'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn trunk_and_split_names_are_hashed() {
        assert!(is_hashed("/main-9dc44b76fefa2de5.css"));
        assert!(is_hashed("/containers-12b98b4470b737f.css"));
        assert!(is_hashed("/frontend-8c6512c0510c47e7_bg.wasm"));
        assert!(is_hashed("/frontend-8c6512c0510c47e7.js"));
        assert!(is_hashed("/app-8c6512c0510c47e7/chunk_12.wasm"));
    }

    #[test]
    fn other_names_are_not() {
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/login"));
        assert!(!is_hashed("/containers/3f2a"));
        assert!(!is_hashed("/favicon.ico"));
        assert!(!is_hashed("/some-name.css"));
        assert!(!is_hashed("/x-8c6512c0510c47eg.css"));
        assert!(!is_hashed(
            "/containers/0b9c2f4e-8c65-12c0-510c-47e7aa00bb11"
        ));
    }
}
