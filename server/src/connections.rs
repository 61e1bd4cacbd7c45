//! The server's connections. On the plain listener each speaks HTTP/1.1, or HTTP/2 with prior
//! knowledge (h2c, for a reverse proxy that speaks it), told apart by peeking at its first bytes;
//! over TLS the protocol is the one ALPN agreed on.
//!
//! Why not `axum::serve`: to find the HTTP/2 preface it reads a connection's first bytes into a
//! 24-byte buffer and gives them back to hyper's HTTP/1.1 parser as a first read of at most 24
//! bytes. The parser's 8 kB read buffer then has to grow for the rest of the request head, to
//! 16 kB with a copy, and an open progress stream keeps that buffer for as long as it is open.
//! Peeking leaves the bytes in the socket, so the first read takes the whole request head.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::keep_alive_handoff::{CountingService, FinishedResponses, HandoffIo};
use crate::stream_connections::{self, PartialHead, Recognised, StreamRequest};

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

/// How a plain connection begins.
#[derive(Debug)]
enum Opening {
    /// In a protocol hyper serves.
    Hyper(Protocol),
    /// With a progress stream, served by [`stream_connections`].
    ProgressStream(Box<StreamRequest>),
}

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting and waits for
/// the open connections to finish, as `axum::serve`'s graceful shutdown does. With `tls`, each
/// connection is a TLS connection first.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    // Progress streams served outside hyper end when this changes.
    let (stop_streams, streams_stop) = watch::channel(());
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
        let service = tower::Layer::layer(&axum::Extension(ConnectInfo(peer)), router.clone());
        let watcher = graceful.watcher();
        match &tls {
            None => {
                let streams_stop = streams_stop.clone();
                tokio::spawn(serve_plain(stream, peer, service, watcher, streams_stop));
            }
            Some(acceptor) => {
                tokio::spawn(serve_tls(stream, peer, acceptor.clone(), service, watcher));
            }
        }
    }
    drop(listener);
    drop(streams_stop);
    let _ = stop_streams.send(());
    graceful.shutdown().await;
    stop_streams.closed().await;
    Ok(())
}

/// The router as one connection's service: it knows the connection's peer address.
type ConnectionService = axum::middleware::AddExtension<Router, ConnectInfo<SocketAddr>>;

/// A plain connection: HTTP/2 if it starts with the preface, a progress stream served by
/// [`stream_connections`] if its first request opens one, HTTP/1.1 through hyper otherwise,
/// until a later request opens one.
async fn serve_plain(
    stream: TcpStream,
    peer: SocketAddr,
    service: ConnectionService,
    watcher: Watcher,
    streams_stop: watch::Receiver<()>,
) {
    let Ok(Ok(opening)) = tokio::time::timeout(FIRST_BYTES_TIMEOUT, opening_of(&stream)).await
    else {
        return;
    };
    match opening {
        Opening::Hyper(Protocol::Http2) => {
            let served = serve_io(TokioIo::new(stream), Protocol::Http2, service, watcher).await;
            log_end(peer, served);
        }
        Opening::Hyper(Protocol::Http1) => {
            // The graceful shutdown reaches it through `streams_stop`: it may become a stream.
            drop(watcher);
            let handed_off = serve_http1_until_stream(stream, peer, &service, &streams_stop).await;
            if let Some((stream, request)) = handed_off {
                serve_stream(stream, peer, request, service, streams_stop);
            }
        }
        Opening::ProgressStream(request) => {
            // Not hyper's: the graceful shutdown reaches it through `streams_stop`.
            drop(watcher);
            serve_stream(stream, peer, request, service, streams_stop);
        }
    }
}

/// Serves a progress stream's connection ([`stream_connections`]) on a task of its own, sized
/// for this connection alone rather than for hyper's too; the calling task ends.
fn serve_stream(
    stream: TcpStream,
    peer: SocketAddr,
    request: Box<StreamRequest>,
    service: ConnectionService,
    streams_stop: watch::Receiver<()>,
) {
    tokio::spawn(async move {
        let served = stream_connections::serve(stream, request, service, streams_stop).await;
        if let Err(e) = served {
            tracing::debug!(%peer, error = %e, "progress stream connection ended with an error");
        }
    });
}

/// Serves a plain HTTP/1.1 connection through hyper until it ends, or until a later request on
/// it opens a progress stream ([`crate::keep_alive_handoff`]): then returns the socket and that
/// request. When `stop` changes, hyper ends the connection after the response under way.
async fn serve_http1_until_stream(
    stream: TcpStream,
    peer: SocketAddr,
    service: &ConnectionService,
    stop: &watch::Receiver<()>,
) -> Option<(TcpStream, Box<StreamRequest>)> {
    let finished = FinishedResponses::default();
    let io = TokioIo::new(HandoffIo::new(stream, finished.clone()));
    let service = CountingService {
        inner: service.clone(),
        finished,
    };
    let mut connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(io, service);
    let mut stop = stop.clone();
    let mut stopping = false;
    let served = loop {
        tokio::select! {
            served = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => break served,
            _ = stop.changed(), if !stopping => {
                stopping = true;
                std::pin::Pin::new(&mut connection).graceful_shutdown();
            }
        }
    };
    if let Err(e) = served {
        log_end(peer, Err(e));
        return None;
    }
    let parts = connection.into_parts();
    if stopping || !parts.read_buf.is_empty() {
        return None;
    }
    parts.io.into_inner().into_handoff()
}

/// A TLS connection: the handshake, then the protocol ALPN agreed on.
async fn serve_tls(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    service: ConnectionService,
    watcher: Watcher,
) {
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let protocol = match stream.get_ref().1.alpn_protocol() {
        Some(b"h2") => Protocol::Http2,
        _ => Protocol::Http1,
    };
    let served = serve_io(TokioIo::new(stream), protocol, service, watcher).await;
    log_end(peer, served);
}

/// Notes a connection that hyper ended with an error (at debug level: clients go away).
fn log_end(peer: SocketAddr, served: Result<(), hyper::Error>) {
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Serves one connection in `protocol` through hyper until it ends or the graceful shutdown
/// ends it.
async fn serve_io<I>(
    io: I,
    protocol: Protocol,
    service: ConnectionService,
    watcher: Watcher,
) -> Result<(), hyper::Error>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(service);
    match protocol {
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
    }
}

/// How the connection begins: the HTTP/2 preface, a progress stream's request head, or any
/// other HTTP/1.1 request; read without taking the bytes.
async fn opening_of(stream: &TcpStream) -> std::io::Result<Opening> {
    // Freed once the opening is known; most request heads fit the first size.
    let mut first = vec![0u8; stream_connections::FIRST_PEEK];
    let mut waits = 0;
    loop {
        let n = stream.peek(&mut first).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let known = n.min(H2_PREFACE.len());
        if first[..known] == H2_PREFACE[..known] {
            if known == H2_PREFACE.len() {
                return Ok(Opening::Hyper(Protocol::Http2));
            }
        } else {
            match stream_connections::recognise(&first[..n]) {
                Recognised::Stream(request) => return Ok(Opening::ProgressStream(request)),
                Recognised::Other => return Ok(Opening::Hyper(Protocol::Http1)),
                Recognised::NeedMore => {}
            }
        }
        // Not told apart yet.
        match stream_connections::partial_head(&mut first, n, &mut waits) {
            PartialHead::PeekAgain => {}
            PartialHead::Wait(delay) => tokio::time::sleep(delay).await,
            PartialHead::TooLong => return Ok(Opening::Hyper(Protocol::Http1)),
        }
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
