//! [`Connection`]: an accepted TCP connection that hyper reads and writes while a long response
//! (a progress stream) can still notice the client leaving.
//!
//! hyper is set to allow half-closed HTTP/1.1 connections (see [`crate::serve`]), so it does not
//! read an idle connection while a response is being sent: such a read makes hyper reserve a
//! fresh 8 kB read buffer per connection, which was most of an idle progress stream's memory.
//! Instead the stream waits on [`Peer::closed`], a one-byte `peek` that needs no buffer.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The first read of a connection fills at most this much of hyper's 8 kB read buffer: a
/// request head fits, and only the memory a read writes to becomes resident.
const FIRST_READ: usize = 2048;

/// Reads grow up to this while they keep filling what they were given (request bodies).
const MAX_READ: usize = 64 * 1024;

/// The socket as hyper uses it: reads and writes go straight to the shared [`TcpStream`].
pub struct Connection {
    socket: Arc<TcpStream>,
    /// How much the next read may fill. The buffer hyper lends is uninitialised and a read
    /// needs it zeroed first; zeroing all of it would make every connection's 8 kB resident.
    read_window: usize,
}

/// The client's end of a connection, as a request extension; cheap to clone.
#[derive(Clone)]
pub struct Peer {
    socket: Arc<TcpStream>,
}

impl Connection {
    /// The connection, and the handle a response uses to notice the client leaving.
    pub fn new(socket: TcpStream) -> (Connection, Peer) {
        let socket = Arc::new(socket);
        let peer = Peer {
            socket: socket.clone(),
        };
        let connection = Connection {
            socket,
            read_window: FIRST_READ,
        };
        (connection, peer)
    }
}

impl Peer {
    /// Completes when the client has closed or reset the connection. Data the client sends
    /// meanwhile (a pipelined request) is left for hyper, and this then waits forever: the next
    /// write fails instead. Cancel-safe: nothing is consumed.
    pub async fn closed(&self) {
        let mut byte = [0u8; 1];
        match self.socket.peek(&mut byte).await {
            Ok(0) | Err(_) => {}
            Ok(_) => std::future::pending().await,
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(this.socket.poll_read_ready(cx))?;
            let window = this.read_window.min(buf.remaining());
            match this.socket.try_read(buf.initialize_unfilled_to(window)) {
                Ok(n) => {
                    buf.advance(n);
                    if n == window {
                        this.read_window = (this.read_window * 2).min(MAX_READ);
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.socket.poll_write_ready(cx))?;
            match self.socket.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                result => return Poll::Ready(result),
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.socket.poll_write_ready(cx))?;
            match self.socket.try_write_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                result => return Poll::Ready(result),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shut = socket2::SockRef::from(self.socket.as_ref()).shutdown(std::net::Shutdown::Write);
        Poll::Ready(match shut {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        })
    }
}
