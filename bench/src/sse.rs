//! Lightweight progress-stream clients, cheap enough to hold 10,000: HTTP/1.1 on a raw TCP
//! socket (chunked transfer decoding), and HTTP/2 in the clear with prior knowledge (h2c), many
//! streams sharing one connection as a browser's tabs on one origin do. Both give the `id:` of
//! each SSE event.

use anyhow::{Context, bail};
use bytes::Bytes;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How the client talks to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// One TCP connection per stream.
    Http1,
    /// One TCP connection per stream, which served another request first (as a browser
    /// reuses a kept-alive connection for its EventSource).
    Http1AfterRequest,
    /// [`HTTP2_STREAMS_PER_CONNECTION`] streams per TCP connection.
    Http2,
}

/// Streams sharing one HTTP/2 connection (browsers open one connection per origin; the server
/// allows 200 concurrent streams on one).
pub const HTTP2_STREAMS_PER_CONNECTION: usize = 100;

impl Protocol {
    pub fn label(self) -> String {
        match self {
            Protocol::Http1 => "HTTP/1.1".to_owned(),
            Protocol::Http1AfterRequest => {
                "HTTP/1.1, each after a request on its connection".to_owned()
            }
            Protocol::Http2 => format!("HTTP/2, {HTTP2_STREAMS_PER_CONNECTION} per connection"),
        }
    }
}

/// One open `GET /api/containers/{id}/progress`.
pub struct SseStream {
    body: Body,
    /// Decoded body bytes not yet parsed into events.
    text: Vec<u8>,
    text_pos: usize,
}

enum Body {
    Http1(ChunkedBody),
    Http2(h2::RecvStream),
}

/// An HTTP/1.1 connection's chunked response body.
struct ChunkedBody {
    socket: TcpStream,
    /// Bytes read but not yet decoded.
    raw: Vec<u8>,
    raw_pos: usize,
    chunk: ChunkState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkState {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk, with this many bytes left.
    Data(usize),
    /// Expecting the CRLF after a chunk.
    Trailer,
    /// The last chunk arrived.
    End,
}

/// An HTTP/2 connection (h2c, prior knowledge) that streams are opened on.
#[derive(Clone)]
pub struct Http2Connection {
    send: h2::client::SendRequest<Bytes>,
    addr: SocketAddr,
}

impl Http2Connection {
    /// Connects and runs the connection in the background until its last stream is dropped.
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Http2Connection> {
        let socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        // Large windows: the benchmark measures the server, not flow control.
        let (send, connection) = h2::client::Builder::new()
            .initial_window_size(1 << 20)
            .initial_connection_window_size(1 << 26)
            .handshake(socket)
            .await
            .context("the server did not accept an HTTP/2 connection (h2c)")?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Http2Connection { send, addr })
    }
}

impl SseStream {
    /// Opens the stream on its own HTTP/1.1 connection and reads the response head; fails
    /// unless the answer is `200`.
    pub async fn open(
        addr: SocketAddr,
        path: &str,
        cookie: &str,
        last_event_id: Option<i64>,
    ) -> anyhow::Result<SseStream> {
        let socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        SseStream::open_on(socket, addr, path, cookie, last_event_id).await
    }

    /// Opens the stream on its own HTTP/1.1 connection after a `GET /health` on it, read to its
    /// end; fails unless both answers are `200`.
    pub async fn open_after_request(
        addr: SocketAddr,
        path: &str,
        cookie: &str,
    ) -> anyhow::Result<SseStream> {
        let mut socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        socket.write_all(request.as_bytes()).await?;
        let expected = b"HTTP/1.1 200 OK\r\n";
        let mut answer = Vec::with_capacity(512);
        // The answer is a few headers and `ok`, its end the body after the blank line.
        while find(&answer, b"\r\n\r\n").is_none_or(|end| answer.len() < end + 4 + 2) {
            if socket.read_buf(&mut answer).await? == 0 {
                bail!("the server closed the connection after GET /health");
            }
        }
        if !answer.starts_with(expected) || !answer.ends_with(b"\r\n\r\nok") {
            bail!(
                "GET /health answered {:?}",
                String::from_utf8_lossy(&answer)
            );
        }
        SseStream::open_on(socket, addr, path, cookie, None).await
    }

    /// Sends the stream's request on `socket` and reads the response head.
    async fn open_on(
        mut socket: TcpStream,
        addr: SocketAddr,
        path: &str,
        cookie: &str,
        last_event_id: Option<i64>,
    ) -> anyhow::Result<SseStream> {
        let resume = last_event_id
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
             Accept: text/event-stream\r\n{resume}\r\n"
        );
        socket.write_all(request.as_bytes()).await?;
        let mut body = ChunkedBody {
            socket,
            raw: Vec::with_capacity(4096),
            raw_pos: 0,
            chunk: ChunkState::Size,
        };
        let head = body.read_head().await?;
        let status = head.lines().next().unwrap_or_default();
        if !status.starts_with("HTTP/1.1 200") {
            bail!("the progress stream answered {status:?}");
        }
        if !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            bail!("the progress stream is not chunked: {head}");
        }
        Ok(SseStream::reading(Body::Http1(body)))
    }

    /// Opens the stream on a shared HTTP/2 connection; fails unless the answer is `200`.
    pub async fn open_http2(
        connection: &Http2Connection,
        path: &str,
        cookie: &str,
        last_event_id: Option<i64>,
    ) -> anyhow::Result<SseStream> {
        let mut request = http::Request::get(format!("http://{}{path}", connection.addr))
            .header("cookie", cookie)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let mut send = connection.send.clone().ready().await?;
        let (response, _) = send.send_request(request.body(())?, true)?;
        let response = response.await?;
        if response.status() != http::StatusCode::OK {
            bail!("the progress stream answered {}", response.status());
        }
        Ok(SseStream::reading(Body::Http2(response.into_body())))
    }

    fn reading(body: Body) -> SseStream {
        SseStream {
            body,
            text: Vec::new(),
            text_pos: 0,
        }
    }

    /// The `id` of the next event, or `None` when the server ended the stream. Keep-alive
    /// comments are skipped; an event without an id is an error.
    pub async fn next_id(&mut self) -> anyhow::Result<Option<i64>> {
        loop {
            if let Some(block) = self.next_block() {
                let text = std::str::from_utf8(&block).context("an SSE event is not UTF-8")?;
                let mut id = None;
                let mut has_data = false;
                for line in text.split('\n') {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().parse::<i64>().context("a non-numeric event id")?);
                    } else if line.starts_with("data:") {
                        has_data = true;
                    }
                }
                match (id, has_data) {
                    (Some(id), true) => return Ok(Some(id)),
                    (None, false) => continue, // a comment
                    _ => bail!("a malformed SSE event: {text:?}"),
                }
            }
            let more = match &mut self.body {
                Body::Http1(body) => body.read_into(&mut self.text).await?,
                Body::Http2(body) => match body.data().await {
                    Some(data) => {
                        let data = data?;
                        let _ = body.flow_control().release_capacity(data.len());
                        self.text.extend_from_slice(&data);
                        true
                    }
                    None => false,
                },
            };
            if !more {
                return Ok(None);
            }
        }
    }

    /// The next complete event block (without its blank line) from the decoded body.
    fn next_block(&mut self) -> Option<Vec<u8>> {
        let rest = &self.text[self.text_pos..];
        let end = find(rest, b"\n\n")?;
        let block = rest[..end].to_vec();
        self.text_pos += end + 2;
        if self.text_pos * 2 >= self.text.len() {
            self.text.drain(..self.text_pos);
            self.text_pos = 0;
        }
        Some(block)
    }
}

impl ChunkedBody {
    async fn read_head(&mut self) -> anyhow::Result<String> {
        loop {
            if let Some(end) = find(&self.raw, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.raw[..end]).into_owned();
                self.raw_pos = end + 4;
                return Ok(head);
            }
            if self.fill().await? == 0 {
                bail!("the server closed the connection before answering");
            }
        }
    }

    /// Reads more bytes from the socket; returns how many.
    async fn fill(&mut self) -> anyhow::Result<usize> {
        if self.raw_pos > 0 && self.raw_pos * 2 >= self.raw.len() {
            self.raw.drain(..self.raw_pos);
            self.raw_pos = 0;
        }
        // Into the spare capacity: zeroing a fresh 16 kB for each read cost the client a third
        // of its CPU per frame (`perf`), on the cores it shares with the server.
        self.raw.reserve(16 * 1024);
        Ok(self.socket.read_buf(&mut self.raw).await?)
    }

    /// Appends more of the body to `out`; false when the body has ended.
    async fn read_into(&mut self, out: &mut Vec<u8>) -> anyhow::Result<bool> {
        loop {
            let before = out.len();
            self.decode(out)?;
            if out.len() > before {
                return Ok(true);
            }
            if self.chunk == ChunkState::End || self.fill().await? == 0 {
                return Ok(false);
            }
        }
    }

    /// Moves what the raw buffer holds of the chunked body into `out`.
    fn decode(&mut self, out: &mut Vec<u8>) -> anyhow::Result<()> {
        loop {
            let rest = &self.raw[self.raw_pos..];
            match self.chunk {
                ChunkState::End => return Ok(()),
                ChunkState::Size => {
                    let Some(end) = find(rest, b"\r\n") else {
                        return Ok(());
                    };
                    let line = std::str::from_utf8(&rest[..end])?;
                    let hex = line.split(';').next().unwrap_or_default().trim();
                    let size = usize::from_str_radix(hex, 16)
                        .with_context(|| format!("a malformed chunk size {line:?}"))?;
                    self.raw_pos += end + 2;
                    self.chunk = if size == 0 {
                        ChunkState::End
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    if rest.is_empty() {
                        return Ok(());
                    }
                    let take = left.min(rest.len());
                    out.extend_from_slice(&rest[..take]);
                    self.raw_pos += take;
                    self.chunk = if take == left {
                        ChunkState::Trailer
                    } else {
                        ChunkState::Data(left - take)
                    };
                }
                ChunkState::Trailer => {
                    if rest.len() < 2 {
                        return Ok(());
                    }
                    if &rest[..2] != b"\r\n" {
                        bail!("a chunk does not end with CRLF");
                    }
                    self.raw_pos += 2;
                    self.chunk = ChunkState::Size;
                }
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
