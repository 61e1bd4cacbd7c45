//! SSH servers: one per running container (on its loopback address) and one for the node.

pub mod container;
mod exec;
pub mod keys;
pub mod node;
mod session;
mod sftp;
mod shellwords;
mod vfs;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;
use russh::{MethodKind, MethodSet};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::sim::Sim;
use session::SshSession;
pub use session::Target;

/// A russh server configuration presenting `host_key`.
fn server_config(host_key: PrivateKey) -> Arc<russh::server::Config> {
    Arc::new(russh::server::Config {
        server_id: russh::SshId::Standard(
            concat!("SSH-2.0-pvesim_", env!("CARGO_PKG_VERSION")).into(),
        ),
        methods: MethodSet::from(&[MethodKind::PublicKey, MethodKind::Password][..]),
        auth_rejection_time: Duration::from_millis(100),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key],
        inactivity_timeout: Some(Duration::from_secs(3600)),
        nodelay: true,
        ..Default::default()
    })
}

/// Binds `addr` and serves SSH connections for `target` until `cancel` fires; returns the
/// bound address. Cancelling also disconnects every open session.
pub async fn serve(
    sim: &Arc<Sim>,
    addr: SocketAddr,
    host_key: PrivateKey,
    target: Target,
    cancel: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let config = server_config(host_key);
    let sim = sim.clone();
    sim.clone().tracker.spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                _ = cancel.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "SSH accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let handler = SshSession::new(sim.clone(), target.clone(), cancel.clone());
            let config = config.clone();
            let cancel = cancel.clone();
            sim.tracker.spawn(async move {
                let running = match russh::server::run_stream(config, stream, handler).await {
                    Ok(running) => running,
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "SSH handshake failed");
                        return;
                    }
                };
                let handle = running.handle();
                tokio::select! {
                    result = running => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, error = %e, "SSH session ended with an error");
                        }
                    }
                    _ = cancel.cancelled() => {
                        let _ = handle
                            .disconnect(russh::Disconnect::ByApplication, "shutting down".into(), String::new())
                            .await;
                    }
                }
            });
        }
        tracing::debug!(%local, "SSH endpoint closed");
    });
    Ok(local)
}
