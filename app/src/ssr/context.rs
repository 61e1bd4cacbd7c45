//! The state server functions run with, provided by the server for each request.

use crate::error::AppError;
use backend::crypto::SecretBox;
use backend::db::{DbConn, DbPool};
use backend::events::ProgressHub;
use backend::queue::Queue;
use backend::redis::RedisClient;
use leptos::prelude::use_context;

/// Everything a server function may need; cheap to clone.
#[derive(Clone)]
pub struct ServerContext {
    pub db: DbPool,
    pub redis: RedisClient,
    /// The process's one Redis subscriber, shared by every open progress stream.
    pub progress: ProgressHub,
    /// The live status pollers, shared by every viewer of the container pages.
    pub live: backend::services::status::LiveStatusHub,
    pub secrets: SecretBox,
    /// The creation job queue the workers read.
    pub queue: Queue,
    /// How long a login lasts.
    pub session_lifetime: chrono::Duration,
    /// Set the cookie's `Secure` flag (the app is served over HTTPS).
    pub secure_cookies: bool,
    /// The folder "Discover templates" reads (`INFRAHAUS_TEMPLATES_DIR`).
    pub templates_dir: std::path::PathBuf,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`INFRAHAUS_TRUSTED_PROXIES`).
    pub trusted_proxies: std::sync::Arc<[std::net::IpAddr]>,
}

impl ServerContext {
    /// The context of the current request.
    pub fn get() -> Result<Self, AppError> {
        use_context::<ServerContext>().ok_or_else(|| {
            tracing::error!("server function called without a ServerContext");
            AppError::Internal
        })
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the last address
    /// in `X-Forwarded-For` that is not one of the trusted proxies.
    pub fn client_address(
        &self,
        peer: std::net::IpAddr,
        forwarded_for: Option<&str>,
    ) -> std::net::IpAddr {
        client_address(&self.trusted_proxies, peer, forwarded_for)
    }

    /// A database connection, or a clear "unavailable" error after at most
    /// [`backend::services::DB_WAIT`].
    pub async fn conn(&self) -> Result<DbConn, AppError> {
        Ok(backend::services::conn(&self.db).await?)
    }
}

/// See [`ServerContext::client_address`]. A malformed header counts as no header.
pub fn client_address(
    trusted: &[std::net::IpAddr],
    peer: std::net::IpAddr,
    forwarded_for: Option<&str>,
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut hops = Vec::new();
    for hop in header.split(',') {
        match hop.trim().parse::<std::net::IpAddr>() {
            Ok(ip) => hops.push(ip),
            Err(_) => return peer,
        }
    }
    hops.into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy = [ip("10.0.0.2")];
        let client = |peer, header| client_address(&proxy, ip(peer), header);
        assert_eq!(client("10.0.0.2", Some("203.0.113.7")), ip("203.0.113.7"));
        // The client may send its own header: only the hop the proxy added counts.
        assert_eq!(
            client("10.0.0.2", Some("1.2.3.4, 203.0.113.7")),
            ip("203.0.113.7")
        );
        assert_eq!(
            client("10.0.0.2", Some("203.0.113.7, 10.0.0.2")),
            ip("203.0.113.7")
        );
        assert_eq!(client("192.0.2.1", Some("203.0.113.7")), ip("192.0.2.1"));
        assert_eq!(client("10.0.0.2", Some("garbage")), ip("10.0.0.2"));
        assert_eq!(client("10.0.0.2", None), ip("10.0.0.2"));
    }
}
