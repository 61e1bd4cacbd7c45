//! TLS terminated by the server itself: the certificate (the operator's files, or a self-signed
//! one generated on first start and kept), the rustls configuration offering HTTP/2 and
//! HTTP/1.1 by ALPN (the connections are served by [`crate::connections`]).
//!
//! rustls runs on the ring provider, the workspace's one crypto provider.

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The self-signed certificate's file name, next to the secret key file.
pub const SELF_SIGNED_CERT: &str = "tls-cert.pem";
/// The self-signed certificate's private key, next to the secret key file.
pub const SELF_SIGNED_KEY: &str = "tls-key.pem";

/// Where the certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files the operator provides (`INFRAHAUS_TLS_CERT`, `INFRAHAUS_TLS_KEY`): the chain,
    /// end-entity first, and its private key.
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate in `dir`, generated there when missing, for `names`.
    SelfSigned { dir: PathBuf, names: Vec<String> },
}

/// A loaded certificate, ready to accept connections.
#[derive(Clone)]
pub struct TlsIdentity {
    pub acceptor: TlsAcceptor,
    /// The end-entity certificate's file.
    pub cert_path: PathBuf,
    /// SHA-256 of the end-entity certificate (DER), `AA:BB:…` upper case, as browsers show it.
    pub fingerprint: String,
    /// Whether this start generated the certificate.
    pub generated: bool,
}

impl TlsIdentity {
    /// Loads the certificate from `source`, generating the self-signed one when it is missing.
    pub fn load(source: &TlsSource) -> anyhow::Result<TlsIdentity> {
        let (cert_path, key_path, generated) = match source {
            TlsSource::Files { cert, key } => (cert.clone(), key.clone(), false),
            TlsSource::SelfSigned { dir, names } => {
                let cert = dir.join(SELF_SIGNED_CERT);
                let key = dir.join(SELF_SIGNED_KEY);
                let generated = !(cert.exists() && key.exists());
                if generated {
                    write_self_signed(&cert, &key, names)?;
                }
                (cert, key, generated)
            }
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .with_context(|| {
                format!(
                    "cannot read the TLS certificate {} (INFRAHAUS_TLS_CERT)",
                    cert_path.display()
                )
            })?;
        let Some(leaf) = chain.first() else {
            anyhow::bail!(
                "the TLS certificate file {} (INFRAHAUS_TLS_CERT) holds no certificate",
                cert_path.display()
            );
        };
        let fingerprint = fingerprint(leaf);
        let key = PrivateKeyDer::from_pem_file(&key_path).with_context(|| {
            format!(
                "cannot read the TLS private key {} (INFRAHAUS_TLS_KEY)",
                key_path.display()
            )
        })?;
        let mut config =
            rustls::ServerConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .context(
                    "the TLS private key (INFRAHAUS_TLS_KEY) does not fit the certificate (INFRAHAUS_TLS_CERT)",
                )?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsIdentity {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            cert_path,
            fingerprint,
            generated,
        })
    }
}

/// Writes a new self-signed certificate for `names` and its key (readable by the owner only).
fn write_self_signed(cert_path: &Path, key_path: &Path, names: &[String]) -> anyhow::Result<()> {
    let certified = rcgen::generate_simple_self_signed(names.to_vec())
        .context("cannot generate a self-signed TLS certificate")?;
    let mut key_file = std::fs::OpenOptions::new();
    key_file.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut key_file, 0o600);
    key_file
        .open(key_path)
        .and_then(|mut f| f.write_all(certified.signing_key.serialize_pem().as_bytes()))
        .with_context(|| format!("cannot write {}", key_path.display()))?;
    std::fs::write(cert_path, certified.cert.pem())
        .with_context(|| format!("cannot write {}", cert_path.display()))?;
    Ok(())
}

/// SHA-256 of a DER certificate, `AA:BB:…` upper case.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The names a self-signed certificate covers: the loopback names, the listen address when it
/// is a specific one, and the public URL's host.
pub fn self_signed_names(public_url: &str, listen: SocketAddr) -> Vec<String> {
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    if !listen.ip().is_unspecified() {
        names.push(listen.ip().to_string());
    }
    let host = public_url
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(public_url)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    let host = host.to_ascii_lowercase();
    if !host.is_empty() && !names.contains(&host) {
        names.push(host);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_names_cover_loopback_the_listen_address_and_the_public_host() {
        let listen: SocketAddr = "192.168.1.5:8443".parse().unwrap();
        let names = self_signed_names("https://Infra.Example.net:8443/x", listen);
        assert_eq!(
            names,
            [
                "localhost",
                "127.0.0.1",
                "::1",
                "192.168.1.5",
                "infra.example.net"
            ]
        );
        let any: SocketAddr = "[::]:8443".parse().unwrap();
        assert_eq!(
            self_signed_names("https://[fd00::5]:8443", any),
            ["localhost", "127.0.0.1", "::1", "fd00::5"]
        );
    }

    #[test]
    fn a_self_signed_certificate_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let source = TlsSource::SelfSigned {
            dir: dir.path().to_owned(),
            names: vec!["localhost".into()],
        };
        let first = TlsIdentity::load(&source).unwrap();
        assert!(first.generated);
        let second = TlsIdentity::load(&source).unwrap();
        assert!(!second.generated);
        assert_eq!(first.fingerprint, second.fingerprint);
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SELF_SIGNED_KEY))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_key_that_does_not_fit_the_certificate_is_refused_naming_the_variables() {
        let dir = tempfile::tempdir().unwrap();
        let a = rcgen::generate_simple_self_signed(vec!["a".into()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b".into()]).unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, a.cert.pem()).unwrap();
        std::fs::write(&key, b.signing_key.serialize_pem()).unwrap();
        let error = TlsIdentity::load(&TlsSource::Files { cert, key })
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("INFRAHAUS_TLS_KEY"), "{error}");
        let missing = TlsIdentity::load(&TlsSource::Files {
            cert: dir.path().join("nope.pem"),
            key: dir.path().join("key.pem"),
        })
        .err()
        .unwrap()
        .to_string();
        assert!(missing.contains("INFRAHAUS_TLS_CERT"), "{missing}");
    }
}
