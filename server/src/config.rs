//! Server configuration from environment variables.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `INFRAHAUS_LISTEN` | address and port to listen on | `127.0.0.1:8080` |
//! | `INFRAHAUS_SITE_ROOT` | the built SPA (Trunk's `dist/`) | `dist` |
//! | `INFRAHAUS_PUBLIC_URL` | the URL users open; `https://…` marks cookies `Secure` | `http://` + listen address |
//! | `INFRAHAUS_SESSION_HOURS` | how long a login lasts | `168` |
//! | `INFRAHAUS_METRICS_ALLOW` | addresses and networks that may read `/metrics` (see [`crate::metrics`]) | `127.0.0.0/8,::1` |
//! | `INFRAHAUS_TRUSTED_PROXIES` | comma-separated addresses of reverse proxies whose `X-Forwarded-For` names the client | none |
//!
//! plus the shared `DATABASE_URL`, `REDIS_URL` and `INFRAHAUS_SECRET_KEY_FILE`
//! (see [`backend::config`]).

use backend::config::{BackendConfig, ConfigError, parse_var, var_or};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub backend: BackendConfig,
    pub listen: SocketAddr,
    pub site_root: PathBuf,
    pub public_url: String,
    pub session_hours: i64,
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl ServerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let backend = BackendConfig::from_env()?;
        let listen: SocketAddr =
            parse_var("INFRAHAUS_LISTEN", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let site_root = PathBuf::from(var_or("INFRAHAUS_SITE_ROOT", "dist")?);
        let public_url = var_or("INFRAHAUS_PUBLIC_URL", &format!("http://{listen}"))?;
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Malformed {
                name: "INFRAHAUS_PUBLIC_URL",
                reason: "expected an http:// or https:// URL".into(),
            });
        }
        let session_hours: i64 = parse_var("INFRAHAUS_SESSION_HOURS", 168)?;
        if !(1..=24 * 365).contains(&session_hours) {
            return Err(ConfigError::Malformed {
                name: "INFRAHAUS_SESSION_HOURS",
                reason: "expected 1 to 8760 hours".into(),
            });
        }
        let trusted_proxies = var_or("INFRAHAUS_TRUSTED_PROXIES", "")?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse().map_err(|_| ConfigError::Malformed {
                    name: "INFRAHAUS_TRUSTED_PROXIES",
                    reason: format!("{s:?} is not an IP address"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            trusted_proxies,
            backend,
            listen,
            site_root,
            public_url,
            session_hours,
        })
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
