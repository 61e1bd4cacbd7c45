//! The API's self-signed certificate (kept in the state directory so its fingerprint is
//! stable) and a TLS listener for axum.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::error::SimError;

/// The certificate the API serves.
pub struct TlsIdentity {
    pub cert_pem: String,
    /// SHA-256 of the DER certificate, `AA:BB:...` uppercase, as PVE shows `ssl_fingerprint`.
    pub fingerprint: String,
    pub acceptor: TlsAcceptor,
}

/// Loads `pve-ssl.pem`/`pve-ssl.key` from `dir`, creating them when missing or when they do
/// not name the listen address.
pub fn load_or_create(
    dir: &Path,
    nodes: &[String],
    listen: IpAddr,
) -> Result<TlsIdentity, SimError> {
    let cert_path = dir.join("pve-ssl.pem");
    let key_path = dir.join("pve-ssl.key");
    let sans_path = dir.join("pve-ssl.sans");
    let mut sans: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    sans.extend(nodes.iter().cloned());
    if !listen.is_unspecified() && !sans.contains(&listen.to_string()) {
        sans.push(listen.to_string());
    }
    let stored_sans = std::fs::read_to_string(&sans_path).unwrap_or_default();
    let covered = sans.iter().all(|s| stored_sans.lines().any(|l| l == s));
    if !(cert_path.exists() && key_path.exists() && covered) {
        let certified = rcgen::generate_simple_self_signed(sans.clone())
            .map_err(|e| SimError::Tls(e.to_string()))?;
        std::fs::write(&cert_path, certified.cert.pem())?;
        std::fs::write(&key_path, certified.signing_key.serialize_pem())?;
        std::fs::write(&sans_path, sans.join("\n") + "\n")?;
        tracing::info!(path = %cert_path.display(), "generated a new self-signed certificate");
    }
    let cert_pem = std::fs::read_to_string(&cert_path)?;
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|e| SimError::Tls(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| SimError::Tls(e.to_string()))?;
    let fingerprint = fingerprint(&cert);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SimError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| SimError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsIdentity {
        cert_pem,
        fingerprint,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}

fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Accepted TLS connections, handshaken in the background, for `axum::serve`.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp` until `cancel` fires.
    pub fn new(
        tcp: TcpListener,
        acceptor: TlsAcceptor,
        cancel: CancellationToken,
    ) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = tokio::select! {
                    _ = cancel.cancelled() => break,
                    accepted = tcp.accept() => match accepted {
                        Ok(conn) => conn,
                        Err(e) => {
                            tracing::warn!(error = %e, "API accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { rx, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept loop ended (shutdown): never yield another connection.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
