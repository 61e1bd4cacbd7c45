//! The plain listener's connections: each speaks HTTP/1.1, or HTTP/2 with prior knowledge (h2c,
//! for a reverse proxy that speaks it), told apart by peeking at its first bytes.
//!
//! Why not `axum::serve`: to find the HTTP/2 preface it reads a connection's first bytes into a
//! 24-byte buffer and gives them back to hyper's HTTP/1.1 parser as a first read of at most 24
//! bytes. The parser's 8 kB read buffer then has to grow for the rest of the request head, to
//! 16 kB with a copy, and an open progress stream keeps that buffer for as long as it is open.
//! Peeking leaves the bytes in the socket, so the first read takes the whole request head.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// What an HTTP/2 client sends first (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How long a new connection may take to send its first bytes.
const FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(30);

/// The protocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    Http1,
    Http2,
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting and waits for
/// the open connections to finish, as `axum::serve`'s graceful shutdown does.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    wait_after_accept_error(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Frames go out when written: a progress event is small, and waiting for the peer's
        // delayed ACK (Nagle) would hold it back by up to 40 ms.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(tower::Layer::layer(
            &axum::Extension(ConnectInfo(peer)),
            router.clone(),
        ));
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let protocol =
                match tokio::time::timeout(FIRST_BYTES_TIMEOUT, protocol_of(&stream)).await {
                    Ok(Ok(protocol)) => protocol,
                    Ok(Err(_)) | Err(_) => return,
                };
            let io = TokioIo::new(stream);
            let served = match protocol {
                Protocol::Http1 => {
                    let connection = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .serve_connection(io, service);
                    watcher.watch(connection).await
                }
                Protocol::Http2 => {
                    let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .timer(TokioTimer::new())
                        .serve_connection(io, service);
                    watcher.watch(connection).await
                }
            };
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Whether the connection starts with the HTTP/2 preface, read without taking the bytes.
async fn protocol_of(stream: &TcpStream) -> std::io::Result<Protocol> {
    let mut first = [0u8; H2_PREFACE.len()];
    loop {
        let n = stream.peek(&mut first).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if first[..n] != H2_PREFACE[..n] {
            return Ok(Protocol::Http1);
        }
        if n == H2_PREFACE.len() {
            return Ok(Protocol::Http2);
        }
        // A part of the preface so far: peeking again at once would see the same bytes.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// After a failed `accept`: a connection that went away before it was accepted is nothing; for
/// anything else (out of file descriptors, say), wait a moment instead of spinning.
async fn wait_after_accept_error(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %error, "cannot accept connections; trying again in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
