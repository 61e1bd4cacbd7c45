//! [`LeanSocket`]: the sending side of a progress stream's connection served by
//! [`crate::stream_connections`], shared by the connection's task and the progress hub's
//! dispatch, which writes published batches to a stream that waits in step
//! ([`crate::progress`]'s direct feed) without waking its task.
//!
//! Writes never interleave: the connection's task writes under an async lock, the hub only
//! [`LeanSocket::try_write_body`]s, which gives up when the lock is taken. When the socket takes
//! part of a chunk only, the rest is kept here and the connection's task, woken for it, writes it
//! before anything else.

use crate::stream_connections::{Framing, chunk_pieces, write_chunk};
use std::io::IoSlice;
use tokio::io::AsyncWriteExt as _;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Mutex, Notify};

/// The sending side of one lean progress-stream connection.
pub struct LeanSocket {
    writer: Mutex<Writer>,
    /// Told when a chunk written outside the connection's task is left unfinished.
    unfinished_left: Notify,
}

/// What the connection may have in request extensions for its progress stream: the socket that
/// its response body goes to.
#[derive(Clone)]
pub struct LeanConnection(pub std::sync::Arc<LeanSocket>);

struct Writer {
    half: OwnedWriteHalf,
    framing: Framing,
    /// Between the response head and the end of the body: only then may others write chunks.
    body_open: bool,
    /// The rest of a chunk the socket took part of, written before anything else.
    unfinished: Option<Vec<u8>>,
}

impl LeanSocket {
    pub fn new(half: OwnedWriteHalf) -> LeanSocket {
        LeanSocket {
            writer: Mutex::new(Writer {
                half,
                framing: Framing::Chunked,
                body_open: false,
                unfinished: None,
            }),
            unfinished_left: Notify::new(),
        }
    }

    /// Writes the response head; with a streamed body to follow (chunked, or until the
    /// connection closes), opens the body to writes from outside the connection's task.
    pub async fn write_head(&self, head: &[u8], framing: Framing) -> std::io::Result<()> {
        let mut writer = self.writer.lock().await;
        writer.half.write_all(head).await?;
        writer.framing = framing;
        writer.body_open = matches!(framing, Framing::Chunked | Framing::UntilClose);
        Ok(())
    }

    /// Writes `bytes` as one piece of the body (a chunk, when chunked), after any unfinished one.
    pub async fn write_body(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut writer = self.writer.lock().await;
        writer.finish().await?;
        let framing = writer.framing;
        write_chunk(&mut writer.half, bytes, framing).await
    }

    /// Writes what a write outside the task left unfinished, if anything.
    pub async fn finish_unfinished(&self) -> std::io::Result<()> {
        self.writer.lock().await.finish().await
    }

    /// Resolves when a write outside the connection's task left a chunk unfinished (at once if
    /// that happened since the last call).
    pub async fn unfinished_left(&self) {
        self.unfinished_left.notified().await;
    }

    /// Closes the body to other writers, ends it (the last chunk, when chunked) and shuts the
    /// sending side down.
    pub async fn end_body(&self) -> std::io::Result<()> {
        let mut writer = self.writer.lock().await;
        writer.body_open = false;
        writer.finish().await?;
        if writer.framing == Framing::Chunked {
            writer.half.write_all(b"0\r\n\r\n").await?;
        }
        writer.half.shutdown().await
    }

    /// Closes the body to other writers without ending it (the connection is going away).
    pub async fn close_body(&self) {
        self.writer.lock().await.body_open = false;
    }

    /// Writes `bytes` as one piece of the body now, without waiting: when no other write is
    /// under way, the body is open, and the socket takes at least part of it (the rest is then
    /// written by the connection's task before anything else). False when nothing was written.
    pub fn try_write_body(&self, bytes: &[u8]) -> bool {
        let Ok(mut writer) = self.writer.try_lock() else {
            return false;
        };
        if !writer.body_open || writer.unfinished.is_some() || bytes.is_empty() {
            return false;
        }
        let mut size_line = [0u8; 20];
        let pieces = chunk_pieces(&mut size_line, bytes, writer.framing);
        let slices = pieces.map(IoSlice::new);
        let total: usize = pieces.iter().map(|piece| piece.len()).sum();
        match writer.half.try_write_vectored(&slices) {
            Ok(written) if written == total => true,
            Ok(0) | Err(_) => false,
            Ok(written) => {
                writer.unfinished = Some(pieces.concat().split_off(written));
                drop(writer);
                self.unfinished_left.notify_one();
                true
            }
        }
    }
}

impl Writer {
    async fn finish(&mut self) -> std::io::Result<()> {
        if let Some(rest) = self.unfinished.take() {
            self.half.write_all(&rest).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt as _;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::io::AsyncReadExt as _;
    use tokio::net::{TcpListener, TcpSocket, TcpStream};

    /// A connected pair: the server's socket for the body, the client's end (a small receive
    /// buffer, so that the server's socket fills soon when the client does not read).
    async fn connection() -> (Arc<LeanSocket>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpSocket::new_v4().unwrap();
        client.set_recv_buffer_size(4096).unwrap();
        let client = client
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (_, half) = server.into_split();
        (Arc::new(LeanSocket::new(half)), client)
    }

    /// The response head the tests write.
    const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\n\r\n";

    /// The body the client received, once the server closed: everything after [`HEAD`].
    async fn body_received(mut client: TcpStream) -> Vec<u8> {
        let mut received = Vec::new();
        client.read_to_end(&mut received).await.unwrap();
        received
            .strip_prefix(HEAD)
            .expect("the head comes first")
            .to_vec()
    }

    /// Reads chunks until the last one; returns their contents.
    fn dechunk(mut body: &[u8]) -> Vec<Vec<u8>> {
        let mut chunks = Vec::new();
        loop {
            let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap(), 16).unwrap();
            body = &body[line_end + 2..];
            if size == 0 {
                assert_eq!(body, b"\r\n", "nothing after the last chunk");
                return chunks;
            }
            chunks.push(body[..size].to_vec());
            assert_eq!(&body[size..size + 2], b"\r\n", "a chunk ends with CRLF");
            body = &body[size + 2..];
        }
    }

    #[tokio::test]
    async fn nothing_is_written_from_outside_before_the_head_or_after_the_end() {
        let (socket, client) = connection().await;
        assert!(!socket.try_write_body(b"early"), "before the head");
        socket.write_head(HEAD, Framing::Chunked).await.unwrap();
        assert!(socket.try_write_body(b"id: 1\n\n"));
        socket.write_body(b"id: 2\n\n").await.unwrap();
        socket.end_body().await.unwrap();
        assert!(!socket.try_write_body(b"late"), "after the end");

        let body = body_received(client).await;
        assert_eq!(dechunk(&body), [&b"id: 1\n\n"[..], b"id: 2\n\n"]);
    }

    #[tokio::test]
    async fn a_chunk_the_full_socket_takes_in_part_is_finished_before_the_next_one() {
        let (socket, client) = connection().await;
        socket.write_head(HEAD, Framing::Chunked).await.unwrap();
        // The client does not read: chunks of 3,001 bytes go in until the socket is full.
        let mut sent = Vec::new();
        for n in 0u32.. {
            let chunk = vec![b'a' + u8::try_from(n % 26).unwrap(); 3001];
            if !socket.try_write_body(&chunk) {
                break;
            }
            sent.push(chunk);
            assert!(n < 10_000, "the socket never filled");
        }
        assert!(
            socket.unfinished_left().now_or_never().is_some(),
            "the last chunk went in part (the rest waits for the task)"
        );
        assert!(!socket.try_write_body(b"x"), "nothing overtakes the rest");

        let reader = tokio::spawn(body_received(client));
        let end = async {
            socket.finish_unfinished().await?;
            socket.write_body(b"the end").await?;
            socket.end_body().await
        };
        tokio::time::timeout(Duration::from_secs(20), end)
            .await
            .expect("the client reads again")
            .unwrap();
        let body = reader.await.unwrap();
        sent.push(b"the end".to_vec());
        assert_eq!(dechunk(&body), sent);
    }

    #[tokio::test]
    async fn an_http10_body_goes_out_unframed() {
        let (socket, client) = connection().await;
        socket.write_head(HEAD, Framing::UntilClose).await.unwrap();
        assert!(socket.try_write_body(b"id: 1\n\n"));
        socket.write_body(b"id: 2\n\n").await.unwrap();
        socket.end_body().await.unwrap();
        assert_eq!(body_received(client).await, b"id: 1\n\nid: 2\n\n");
    }
}
