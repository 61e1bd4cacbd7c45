//! Server configuration from environment variables.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `INFRAHAUS_LISTEN` | address and port to listen on | `127.0.0.1:8080` |
//! | `INFRAHAUS_SITE_ROOT` | the built SPA (Trunk's `dist/`) | `dist` |
//! | `INFRAHAUS_PUBLIC_URL` | the URL users open; `https://…` marks cookies `Secure` | `http://` (`https://` with TLS) + listen address |
//! | `INFRAHAUS_TLS` | `on`: the server terminates TLS itself (HTTP/2 and HTTP/1.1 by ALPN); `off`: plain HTTP (HTTP/1.1, and HTTP/2 with prior knowledge) | `on` when `INFRAHAUS_TLS_CERT` is set, else `off` |
//! | `INFRAHAUS_TLS_CERT` | PEM certificate chain, end-entity first | a self-signed certificate, generated on first start next to the secret key file |
//! | `INFRAHAUS_TLS_KEY` | PEM private key of that certificate (set both or neither) | — |
//! | `INFRAHAUS_SESSION_HOURS` | how long a login lasts | `168` |
//! | `INFRAHAUS_METRICS_ALLOW` | addresses and networks that may read `/metrics` (see [`crate::metrics`]) | `127.0.0.0/8,::1` |
//! | `INFRAHAUS_TRUSTED_PROXIES` | comma-separated addresses of reverse proxies whose `X-Forwarded-For` names the client | none |
//!
//! plus the shared `DATABASE_URL`, `REDIS_URL` and `INFRAHAUS_SECRET_KEY_FILE`
//! (see [`backend::config`]).

use backend::config::{BackendConfig, ConfigError, parse_var, var_or};
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::tls::TlsSource;

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub backend: BackendConfig,
    pub listen: SocketAddr,
    pub site_root: PathBuf,
    pub public_url: String,
    pub session_hours: i64,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where the TLS certificate comes from; `None` serves plain HTTP.
    pub tls: Option<TlsSource>,
}

impl ServerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let backend = BackendConfig::from_env()?;
        let listen: SocketAddr =
            parse_var("INFRAHAUS_LISTEN", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let site_root = PathBuf::from(var_or("INFRAHAUS_SITE_ROOT", "dist")?);
        let tls_files = tls_files()?;
        let tls_on = match var_or("INFRAHAUS_TLS", "")?.trim() {
            "" => tls_files.is_some(),
            "on" => true,
            "off" if tls_files.is_some() => {
                return Err(ConfigError::Malformed {
                    name: "INFRAHAUS_TLS",
                    reason: "it is off, but INFRAHAUS_TLS_CERT and INFRAHAUS_TLS_KEY are set; \
                             set it to on, or unset them"
                        .into(),
                });
            }
            "off" => false,
            other => {
                return Err(ConfigError::Malformed {
                    name: "INFRAHAUS_TLS",
                    reason: format!("{other:?}: expected on or off"),
                });
            }
        };
        let scheme = if tls_on { "https" } else { "http" };
        let public_url = var_or("INFRAHAUS_PUBLIC_URL", &format!("{scheme}://{listen}"))?;
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Malformed {
                name: "INFRAHAUS_PUBLIC_URL",
                reason: "expected an http:// or https:// URL".into(),
            });
        }
        if tls_on && !public_url.starts_with("https://") {
            return Err(ConfigError::Malformed {
                name: "INFRAHAUS_PUBLIC_URL",
                reason: "the server terminates TLS (INFRAHAUS_TLS), so users open an https:// URL"
                    .into(),
            });
        }
        let tls = tls_on.then(|| {
            tls_files.unwrap_or_else(|| TlsSource::SelfSigned {
                dir: backend
                    .secret_key_file
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."))
                    .to_owned(),
                names: crate::tls::self_signed_names(&public_url, listen),
            })
        });
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
            tls,
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

/// `INFRAHAUS_TLS_CERT` and `INFRAHAUS_TLS_KEY`: both or neither.
fn tls_files() -> Result<Option<TlsSource>, ConfigError> {
    let cert = var_or("INFRAHAUS_TLS_CERT", "")?;
    let key = var_or("INFRAHAUS_TLS_KEY", "")?;
    match (cert.is_empty(), key.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Ok(Some(TlsSource::Files {
            cert: cert.into(),
            key: key.into(),
        })),
        (false, true) => Err(ConfigError::Malformed {
            name: "INFRAHAUS_TLS_KEY",
            reason: "not set, but INFRAHAUS_TLS_CERT is; set both or neither".into(),
        }),
        (true, false) => Err(ConfigError::Malformed {
            name: "INFRAHAUS_TLS_CERT",
            reason: "not set, but INFRAHAUS_TLS_KEY is; set both or neither".into(),
        }),
    }
}
