//! Security headers on every response.
//!
//! The Content-Security-Policy lets the page load only this site's own files: scripts from here
//! (plus the one inline module Trunk writes into `index.html`, allowed by its SHA-256, see
//! [`csp_for_index`]), WebAssembly compiled from them (`'wasm-unsafe-eval'`), no plugins, no
//! framing by other sites, and connections (server functions, the progress stream) to this
//! origin only.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use http::{HeaderValue, header};
use sha2::{Digest, Sha256};

/// The policy for everything but the SPA's index page.
pub const BASE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers a response does not set itself.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, BASE_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// The policy for `index.html`: [`BASE_CSP`] with the hash of each inline script it holds.
pub fn csp_for_index(html: &str) -> String {
    let hashes: Vec<String> = inline_scripts(html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    if hashes.is_empty() {
        return BASE_CSP.to_owned();
    }
    BASE_CSP.replacen(
        "script-src 'self'",
        &format!("script-src 'self' {}", hashes.join(" ")),
        1,
    )
}

/// The text of each `<script>` element without a `src` attribute.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("<script")?;
            let after_tag = &rest[start..];
            let open_end = after_tag.find('>')?;
            let attributes = &after_tag[..open_end];
            let body_and_rest = &after_tag[open_end + 1..];
            let close = body_and_rest.find("</script>")?;
            let body = &body_and_rest[..close];
            rest = &body_and_rest[close + "</script>".len()..];
            if !attributes.contains(" src=") {
                return Some(body);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_inline_scripts_only() {
        let html = "<head><script src=\"/a.js\"></script>\
                    <script type=\"module\">\nimport init from '/app.js';\n</script></head>";
        let csp = csp_for_index(html);
        let digest = Sha256::digest(b"\nimport init from '/app.js';\n");
        let expected = base64::engine::general_purpose::STANDARD.encode(digest);
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'sha256-{expected}' 'wasm-unsafe-eval'"
            )),
            "{csp}"
        );
        assert_eq!(csp.matches("sha256-").count(), 1, "{csp}");
        assert_eq!(csp_for_index("<p>no scripts</p>"), BASE_CSP);
    }
}
