//! Which `Host` and `Origin` this server answers to.
//!
//! A request is served only when its `Host` is the public URL's host (`INFRAHAUS_PUBLIC_URL`),
//! or, when the server listens on a loopback address, that address or `localhost` on the same
//! port. Anything else (DNS rebinding, a forged `Host`, a proxy that forwards every name) gets
//! 400 before any handler runs. The same list gives the origins a state-changing request may
//! come from (see [`crate::origin`]).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header;
use std::net::SocketAddr;
use std::sync::Arc;

/// The hosts and origins this server answers to; cheap to clone.
#[derive(Clone, Debug)]
pub struct HostPolicy {
    inner: Arc<Allowed>,
}

#[derive(Debug)]
struct Allowed {
    /// `host[:port]`, lower case, default ports written both with and without.
    hosts: Vec<String>,
    /// `scheme://host[:port]`, lower case, as browsers send `Origin`.
    origins: Vec<String>,
}

impl HostPolicy {
    /// The public URL's host, plus loopback names when `listen` is a loopback address.
    pub fn new(public_url: &str, listen: SocketAddr) -> HostPolicy {
        Self::build(public_url, listen, "http")
    }

    /// Like [`HostPolicy::new`] for a server that terminates TLS itself: the loopback names'
    /// origins are `https://`.
    pub fn with_tls(public_url: &str, listen: SocketAddr) -> HostPolicy {
        Self::build(public_url, listen, "https")
    }

    fn build(public_url: &str, listen: SocketAddr, loopback_scheme: &str) -> HostPolicy {
        let mut allowed = Allowed {
            hosts: Vec::new(),
            origins: Vec::new(),
        };
        if let Some((scheme, authority)) = split_url(public_url) {
            allowed.add(scheme, &authority);
        }
        if listen.ip().is_loopback() {
            let port = listen.port();
            for host in ["127.0.0.1", "localhost", "[::1]"] {
                allowed.add(loopback_scheme, &format!("{host}:{port}"));
            }
        }
        HostPolicy {
            inner: Arc::new(allowed),
        }
    }

    /// For a server reached at `http://{listen}` only (tests, `run.sh` on loopback).
    pub fn loopback(listen: SocketAddr) -> HostPolicy {
        HostPolicy::new(&format!("http://{listen}"), listen)
    }

    /// Whether a `Host` header value names this server.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        self.inner.hosts.contains(&host)
    }

    /// Whether an `Origin` header value is this server.
    pub fn allows_origin(&self, origin: &str) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        self.inner.origins.contains(&origin)
    }
}

impl Allowed {
    fn add(&mut self, scheme: &str, authority: &str) {
        let authority = authority.to_ascii_lowercase();
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        let bare = authority
            .strip_suffix(default_port)
            .unwrap_or(&authority)
            .to_owned();
        let forms = [bare.clone(), format!("{bare}{default_port}")];
        for host in forms {
            if !self.hosts.contains(&host) {
                self.hosts.push(host);
            }
        }
        let origin = format!("{scheme}://{bare}");
        if !self.origins.contains(&origin) {
            self.origins.push(origin);
        }
    }
}

/// `("https", "example.net:8443")` from `https://example.net:8443/some/path`.
fn split_url(url: &str) -> Option<(&'static str, String)> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        ("https", rest)
    } else {
        ("http", url.strip_prefix("http://")?)
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    (!authority.is_empty()).then(|| (scheme, authority.to_owned()))
}

/// Refuses a request whose `Host` is not this server's (400), before anything else runs.
pub async fn require_known_host(
    State(policy): State<HostPolicy>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    if policy.allows_host(host) {
        return next.run(req).await;
    }
    tracing::warn!(host = %host.escape_debug(), path = %req.uri().path(), "refused a request for an unknown host");
    crate::refusal::unknown_host()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn public_url_and_loopback() {
        let policy = HostPolicy::new("https://infra.example.net/", addr("127.0.0.1:8080"));
        for host in [
            "infra.example.net",
            "INFRA.example.net:443",
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
        ] {
            assert!(policy.allows_host(host), "{host}");
        }
        for host in [
            "evil.test",
            "infra.example.net:8443",
            "127.0.0.1:8081",
            "127.0.0.1",
            "",
            "infra.example.net.evil.test",
        ] {
            assert!(!policy.allows_host(host), "{host}");
        }
        assert!(policy.allows_origin("https://infra.example.net"));
        assert!(policy.allows_origin("http://localhost:8080"));
        assert!(!policy.allows_origin("https://127.0.0.1:8080"));
        let tls = HostPolicy::with_tls("https://infra.example.net/", addr("127.0.0.1:8443"));
        assert!(tls.allows_origin("https://localhost:8443"));
        assert!(!tls.allows_origin("http://localhost:8443"));
        assert!(!policy.allows_origin("http://infra.example.net"));
        assert!(!policy.allows_origin("https://evil.test"));
        assert!(!policy.allows_origin("null"));
    }

    #[test]
    fn all_interfaces_allow_only_the_public_host() {
        let policy = HostPolicy::new("http://192.168.1.5:8080", addr("0.0.0.0:8080"));
        assert!(policy.allows_host("192.168.1.5:8080"));
        assert!(!policy.allows_host("127.0.0.1:8080"));
        assert!(!policy.allows_host("localhost:8080"));
    }
}
