//! A lightweight progress-stream client on a raw TCP socket: one GET with the session cookie,
//! chunked transfer decoding, and the `id:` of each SSE event. Cheap enough to hold 10,000.

use anyhow::{Context, bail};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One open `GET /api/containers/{id}/progress`.
pub struct SseStream {
    socket: TcpStream,
    /// Bytes read but not yet decoded from the chunked body.
    raw: Vec<u8>,
    raw_pos: usize,
    /// Decoded body bytes not yet parsed into events.
    body: Vec<u8>,
    body_pos: usize,
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

impl SseStream {
    /// Opens the stream and reads the response head; fails unless the answer is `200`.
    pub async fn open(
        addr: SocketAddr,
        path: &str,
        cookie: &str,
        last_event_id: Option<i64>,
    ) -> anyhow::Result<SseStream> {
        let mut socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        let resume = last_event_id
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
             Accept: text/event-stream\r\n{resume}\r\n"
        );
        socket.write_all(request.as_bytes()).await?;
        let mut stream = SseStream {
            socket,
            raw: Vec::with_capacity(4096),
            raw_pos: 0,
            body: Vec::new(),
            body_pos: 0,
            chunk: ChunkState::Size,
        };
        let head = stream.read_head().await?;
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
        Ok(stream)
    }

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
        let start = self.raw.len();
        self.raw.resize(start + 16 * 1024, 0);
        let n = self.socket.read(&mut self.raw[start..]).await?;
        self.raw.truncate(start + n);
        Ok(n)
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
            if self.chunk == ChunkState::End {
                return Ok(None);
            }
            self.decode()?;
            if self.body_pos < self.body.len()
                && find(&self.body[self.body_pos..], b"\n\n").is_some()
            {
                continue;
            }
            if self.chunk == ChunkState::End {
                continue;
            }
            if self.fill().await? == 0 {
                return Ok(None);
            }
        }
    }

    /// The next complete event block (without its blank line) from the decoded body.
    fn next_block(&mut self) -> Option<Vec<u8>> {
        let rest = &self.body[self.body_pos..];
        let end = find(rest, b"\n\n")?;
        let block = rest[..end].to_vec();
        self.body_pos += end + 2;
        if self.body_pos * 2 >= self.body.len() {
            self.body.drain(..self.body_pos);
            self.body_pos = 0;
        }
        Some(block)
    }

    /// Moves what the raw buffer holds of the chunked body into the decoded body.
    fn decode(&mut self) -> anyhow::Result<()> {
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
                    self.body.extend_from_slice(&rest[..take]);
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
