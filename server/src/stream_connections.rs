//! Plain HTTP/1.1 connections whose first request opens a progress stream, served without
//! hyper's connection so that an idle stream holds no parse buffers.
//!
//! hyper's HTTP/1.1 connection keeps an 8 kB read buffer and an 8 kB buffer for response heads
//! for as long as the connection is open, which for a progress stream is as long as a deployment
//! runs; with the connection's task that is about 19 kB per idle stream. Here the request head is
//! peeked at while the connection is told apart ([`crate::connections`]) and, when it is a plain
//! `GET` of `/api/containers/{id}/progress`, the same router answers it: this module only frames
//! the response (chunked, `Connection: close`) and writes the body's bytes as they come. Anything
//! else about the request (a body, `Expect`, `Upgrade`, an absolute URI, a head that does not
//! parse) leaves the connection to hyper, which gives the proper answer.
//!
//! The connection ends with the response: an EventSource opens a new one when it reconnects.
//!
//! The connection's sending side is a [`LeanSocket`], which the request carries as a
//! [`LeanConnection`] extension: a stream that waits in step lets the progress hub write
//! published batches to it directly ([`crate::progress`]).

use crate::lean_socket::{LeanConnection, LeanSocket};
use axum::body::{Body, HttpBody as _};
use futures::StreamExt as _;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version};
use std::io::IoSlice;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::watch;

/// The longest request head looked at; a longer one is left to hyper (which refuses it).
pub const MAX_HEAD: usize = 8 * 1024;

/// The first size a request head is peeked at with; grown to [`MAX_HEAD`] when it is full.
pub const FIRST_PEEK: usize = 1024;

/// The most header lines looked at; more are left to hyper.
pub const MAX_HEADERS: usize = 64;

/// How the route's requests begin.
const PATH_PREFIX: &[u8] = b"GET /api/containers/";

/// How long the client may take to accept one write (a chunk, however slowly it reads) before
/// the connection is dropped, its stream and subscription with it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a stream that is opening when the server starts stopping may take to be answered.
const ANSWER_WHILE_STOPPING: Duration = Duration::from_secs(5);

/// What to do about a request head that has not fully arrived.
#[derive(Debug, PartialEq, Eq)]
pub enum PartialHead {
    /// The peek filled the buffer, now grown: peek again at once.
    PeekAgain,
    /// Everything sent so far was seen: peeking again at once would see the same bytes.
    Wait(Duration),
    /// Over [`MAX_HEAD`]: left to hyper (which refuses it).
    TooLong,
}

/// Decides for a head found incomplete in the first `peeked` bytes of `buffer` (a peek buffer
/// of [`FIRST_PEEK`] bytes, grown here to [`MAX_HEAD`] when full). `waits` counts the waits so
/// far: 5 ms, doubling up to 160 ms, so a client that sends its head a few bytes at a time costs
/// a handful of peeks a second rather than 200.
pub fn partial_head(buffer: &mut Vec<u8>, peeked: usize, waits: &mut u32) -> PartialHead {
    if peeked >= MAX_HEAD {
        return PartialHead::TooLong;
    }
    if peeked == buffer.len() {
        buffer.resize(MAX_HEAD, 0);
        return PartialHead::PeekAgain;
    }
    let delay = Duration::from_millis(5 << (*waits).min(5));
    *waits += 1;
    PartialHead::Wait(delay)
}

/// A progress-stream request, parsed from the connection's first bytes (still in the socket).
#[derive(Debug)]
pub struct StreamRequest {
    request: Request<Body>,
    /// How many bytes of the socket the head takes.
    head_len: usize,
}

impl StreamRequest {
    /// How many bytes of the socket the request's head takes.
    pub fn head_len(&self) -> usize {
        self.head_len
    }
}

/// What a connection's first bytes say about its first request.
#[derive(Debug)]
pub enum Recognised {
    /// A progress stream this module serves.
    Stream(Box<StreamRequest>),
    /// Anything else: hyper serves it.
    Other,
    /// The head is not complete yet and may still be a progress stream.
    NeedMore,
}

/// Reads `bytes`, the first bytes of a plain connection (not the HTTP/2 preface).
pub fn recognise(bytes: &[u8]) -> Recognised {
    let known = bytes.len().min(PATH_PREFIX.len());
    if bytes[..known] != PATH_PREFIX[..known] {
        return Recognised::Other;
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(head_len)) => match stream_request(&parsed, head_len) {
            Some(request) => Recognised::Stream(Box::new(request)),
            None => Recognised::Other,
        },
        Ok(httparse::Status::Partial) if bytes.len() < MAX_HEAD => Recognised::NeedMore,
        _ => Recognised::Other,
    }
}

/// The request, when nothing about it needs more than this module does.
pub fn stream_request(
    parsed: &httparse::Request<'_, '_>,
    head_len: usize,
) -> Option<StreamRequest> {
    let path = parsed.path?;
    let route_path = path.split('?').next().unwrap_or(path);
    if parsed.method != Some("GET") || !crate::progress::is_route_path(route_path) {
        return None;
    }
    let version = match parsed.version? {
        1 => Version::HTTP_11,
        0 => Version::HTTP_10,
        _ => return None,
    };
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes()).ok()?;
        if [
            http::header::CONTENT_LENGTH,
            http::header::TRANSFER_ENCODING,
            http::header::EXPECT,
            http::header::UPGRADE,
        ]
        .contains(&name)
        {
            return None;
        }
        headers.append(name, HeaderValue::from_bytes(header.value).ok()?);
    }
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = path.parse().ok()?;
    *request.version_mut() = version;
    *request.headers_mut() = headers;
    Some(StreamRequest { request, head_len })
}

/// Serves `request` on `stream` with `router`, then closes the connection. When `stop` changes
/// (the server shuts down), a stream in progress ends cleanly and the client reconnects elsewhere.
pub async fn serve<S>(
    mut stream: TcpStream,
    request: Box<StreamRequest>,
    service: S,
    mut stop: watch::Receiver<()>,
) -> std::io::Result<()>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = std::convert::Infallible>,
{
    let StreamRequest {
        mut request,
        head_len,
    } = *request;
    let mut head = vec![0u8; head_len];
    stream.read_exact(&mut head).await?;
    drop(head);
    let http10 = request.version() == Version::HTTP_10;
    let (mut reader, writer) = stream.into_split();
    let socket = Arc::new(LeanSocket::new(writer));
    request
        .extensions_mut()
        .insert(LeanConnection(socket.clone()));
    // A stream that is opening when the server starts stopping still gets its answer (the head,
    // what was ready, then a clean end: `stop` below has not seen the change), unless the answer
    // takes longer than [`ANSWER_WHILE_STOPPING`].
    let answer = tower::ServiceExt::oneshot(service, request);
    tokio::pin!(answer);
    let mut stopping = stop.clone();
    let answered = tokio::select! {
        answered = &mut answer => answered,
        _ = stopping.changed() => match tokio::time::timeout(ANSWER_WHILE_STOPPING, &mut answer).await {
            Ok(answered) => answered,
            Err(_) => return Ok(()),
        },
    };
    let response = match answered {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (mut parts, body) = response.into_parts();
    let framing = Framing::of(parts.status, &body, http10);
    let mut head = Vec::with_capacity(512);
    write_head(&mut head, &mut parts, framing);
    within_write_timeout(socket.write_head(&head, framing)).await?;
    drop(head);
    if framing == Framing::None {
        return within_write_timeout(socket.end_body()).await;
    }

    let mut frames = body.into_data_stream();
    let served = async {
        'serving: loop {
            // One future until it resolves, so an event costs no new wait on the socket or `stop`.
            let interrupted = interruptions(&mut reader, &mut stop, &socket);
            tokio::pin!(interrupted);
            loop {
                // The body first: while frames are ready, nothing else is polled.
                let bytes = tokio::select! {
                    biased;
                    frame = frames.next() => match frame {
                        Some(Ok(bytes)) => bytes,
                        Some(Err(e)) => {
                            // A broken body cannot be ended cleanly: the client sees the
                            // connection drop.
                            tracing::debug!(error = %e, "progress stream body failed");
                            return Ok(Ended::Dropped);
                        }
                        None => return Ok(Ended::BodyDone),
                    },
                    why = &mut interrupted => match why {
                        Interruption::ClientLeft => return Ok(Ended::Dropped),
                        Interruption::ServerStopping => return Ok(Ended::BodyDone),
                        Interruption::UnfinishedWrite => {
                            within_write_timeout(socket.finish_unfinished()).await?;
                            continue 'serving;
                        }
                    },
                };
                within_write_timeout(socket.write_body(&bytes)).await?;
            }
        }
    };
    let ended: std::io::Result<Ended> = served.await;
    match ended {
        Ok(Ended::BodyDone) => within_write_timeout(socket.end_body()).await,
        Ok(Ended::Dropped) => {
            socket.close_body().await;
            Ok(())
        }
        Err(e) => {
            socket.close_body().await;
            Err(e)
        }
    }
}

/// How the body's writing ended.
enum Ended {
    /// The body is over (or the server stops): the response ends cleanly.
    BodyDone,
    /// The client left or the body broke: the connection just goes.
    Dropped,
}

/// Why the body loop looks up from the body.
enum Interruption {
    ClientLeft,
    ServerStopping,
    /// A write outside the task left a chunk unfinished: the task writes the rest.
    UnfinishedWrite,
}

/// Resolves when the client leaves, the server stops, or a chunk is left unfinished; bytes a
/// client sends after its request are read and dropped only to notice it leaving.
async fn interruptions(
    reader: &mut OwnedReadHalf,
    stop: &mut watch::Receiver<()>,
    socket: &LeanSocket,
) -> Interruption {
    let mut ignored = [0u8; 64];
    loop {
        tokio::select! {
            read = reader.read(&mut ignored) => match read {
                Ok(0) | Err(_) => return Interruption::ClientLeft,
                Ok(_) => {}
            },
            _ = stop.changed() => return Interruption::ServerStopping,
            () = socket.unfinished_left() => return Interruption::UnfinishedWrite,
        }
    }
}

/// `write`, failed with `TimedOut` when the client has not taken the bytes in [`WRITE_TIMEOUT`].
/// (A write that completes at once, as nearly all do, never registers the timer.)
async fn within_write_timeout(
    write: impl std::future::Future<Output = std::io::Result<()>>,
) -> std::io::Result<()> {
    tokio::time::timeout(WRITE_TIMEOUT, write)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// How the response body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body at all (204, 304).
    None,
    /// `Content-Length`: the body's exact size is known.
    Length(u64),
    /// `Transfer-Encoding: chunked`: a stream.
    Chunked,
    /// Until the connection closes: an HTTP/1.0 client knows no chunks.
    UntilClose,
}

impl Framing {
    fn of(status: StatusCode, body: &Body, http10: bool) -> Self {
        if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
            return Framing::None;
        }
        match body.size_hint().exact() {
            Some(len) => Framing::Length(len),
            None if http10 => Framing::UntilClose,
            None => Framing::Chunked,
        }
    }
}

/// The status line and headers, with the framing and `Connection: close` this module uses.
fn write_head(head: &mut Vec<u8>, parts: &mut http::response::Parts, framing: Framing) {
    let status = parts.status;
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    let headers = &mut parts.headers;
    for hop_by_hop in [
        http::header::CONNECTION,
        http::header::TRANSFER_ENCODING,
        http::header::CONTENT_LENGTH,
        HeaderName::from_static("keep-alive"),
    ] {
        headers.remove(hop_by_hop);
    }
    if !headers.contains_key(http::header::DATE) {
        let now = httpdate::fmt_http_date(std::time::SystemTime::now());
        if let Ok(value) = HeaderValue::from_str(&now) {
            headers.insert(http::header::DATE, value);
        }
    }
    headers.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    match framing {
        Framing::Length(len) => {
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
        }
        Framing::Chunked => {
            headers.insert(
                http::header::TRANSFER_ENCODING,
                HeaderValue::from_static("chunked"),
            );
        }
        Framing::None | Framing::UntilClose => {}
    }
    for (name, value) in headers.iter() {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
}

/// What goes on the wire for `bytes`, one piece of the body: the size line (written into
/// `size_line`), the bytes and the closing CRLF when `framing` is chunked, else the bytes (and two
/// empty pieces).
pub fn chunk_pieces<'a>(
    size_line: &'a mut [u8; 20],
    bytes: &'a [u8],
    framing: Framing,
) -> [&'a [u8]; 3] {
    if framing != Framing::Chunked {
        return [bytes, b"", b""];
    }
    let size_len = {
        let mut cursor = std::io::Cursor::new(&mut size_line[..]);
        // 16 hex digits and CRLF fit in 20 bytes.
        let _ = std::io::Write::write_fmt(&mut cursor, format_args!("{:x}\r\n", bytes.len()));
        usize::try_from(cursor.position()).unwrap_or(0)
    };
    [&size_line[..size_len], bytes, b"\r\n"]
}

/// Writes `bytes` (one write of the body), as one chunk when `framing` is chunked: the size
/// line, the bytes and the closing CRLF in one vectored write where the socket takes them all,
/// with nothing allocated.
pub async fn write_chunk<W: tokio::io::AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    framing: Framing,
) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut size_line = [0u8; 20];
    let mut pieces = chunk_pieces(&mut size_line, bytes, framing);
    let mut first = 0;
    while first < pieces.len() {
        let slices = pieces.map(IoSlice::new);
        let mut written = writer.write_vectored(&slices[first..]).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        // Empty pieces (an unchunked body has two) count as written.
        while first < pieces.len() && (written > 0 || pieces[first].is_empty()) {
            let piece = &mut pieces[first];
            if written >= piece.len() {
                written -= piece.len();
                first += 1;
            } else {
                *piece = &piece[written..];
                written = 0;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_head_is_peeked_at_in_full_then_less_often_the_longer_it_takes() {
        let mut buffer = vec![0u8; FIRST_PEEK];
        let mut waits = 0;
        assert_eq!(
            partial_head(&mut buffer, FIRST_PEEK, &mut waits),
            PartialHead::PeekAgain
        );
        assert_eq!(buffer.len(), MAX_HEAD);
        let delays: Vec<u128> = (0..8)
            .map(|_| match partial_head(&mut buffer, 1500, &mut waits) {
                PartialHead::Wait(delay) => delay.as_millis(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 160, 160]);
        assert_eq!(
            partial_head(&mut buffer, MAX_HEAD, &mut waits),
            PartialHead::TooLong
        );
    }

    fn request(bytes: &[u8]) -> Recognised {
        recognise(bytes)
    }

    #[test]
    fn a_progress_request_is_recognised_with_its_headers() {
        let head = b"GET /api/containers/0193/progress?after=4 HTTP/1.1\r\nHost: a\r\nCookie: s=1\r\nLast-Event-ID: 7\r\n\r\n";
        let Recognised::Stream(stream) = request(head) else {
            panic!("not recognised");
        };
        assert_eq!(stream.head_len, head.len());
        assert_eq!(
            stream.request.uri(),
            "/api/containers/0193/progress?after=4"
        );
        assert_eq!(stream.request.headers()["last-event-id"], "7");
        assert_eq!(stream.request.headers()["cookie"], "s=1");
    }

    #[test]
    fn other_requests_and_unusual_progress_requests_are_left_to_hyper() {
        for head in [
            &b"GET /api/containers HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"POST /api/containers/1/progress HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /api/containers/1/progress/x HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /api/containers//progress HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /api/containers/1/progress HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
            b"GET /api/containers/1/progress HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET /api/containers/1/progress HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            b"GET /api/containers/1/progress HTTP/1.1\r\nBad Header: x\r\n\r\n",
            b"GET /index.html HTTP/1.1\r\n",
        ] {
            assert!(
                matches!(request(head), Recognised::Other),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn a_head_in_pieces_waits_while_it_may_still_be_a_progress_stream() {
        for partial in [
            &b"G"[..],
            b"GET /api/cont",
            b"GET /api/containers/1/progress HTTP/1.1\r\nHost: a\r\n",
        ] {
            assert!(matches!(request(partial), Recognised::NeedMore));
        }
        let too_long = [
            &b"GET /api/containers/1/progress HTTP/1.1\r\nX: "[..],
            &[b'a'; MAX_HEAD],
        ]
        .concat();
        assert!(matches!(request(&too_long), Recognised::Other));
    }

    #[tokio::test]
    async fn a_write_goes_out_as_one_chunk_and_an_empty_one_not_at_all() {
        let mut out = Vec::new();
        write_chunk(&mut out, b"id: 1\n\n", Framing::Chunked)
            .await
            .unwrap();
        write_chunk(&mut out, b"", Framing::Chunked).await.unwrap();
        write_chunk(&mut out, &[b'x'; 300], Framing::Chunked)
            .await
            .unwrap();
        let expected = [&b"7\r\nid: 1\n\n\r\n12c\r\n"[..], &[b'x'; 300], b"\r\n"].concat();
        assert_eq!(out, expected);

        let mut raw = Vec::new();
        write_chunk(&mut raw, b"id: 1\n\n", Framing::UntilClose)
            .await
            .unwrap();
        assert_eq!(raw, b"id: 1\n\n");
    }

    /// Takes at most 5 bytes per write, as a socket with a full buffer does.
    struct Trickle(Vec<u8>);

    impl tokio::io::AsyncWrite for Trickle {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let n = buf.len().min(5);
            self.0.extend_from_slice(&buf[..n]);
            std::task::Poll::Ready(Ok(n))
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_chunk_written_in_small_pieces_arrives_whole() {
        let mut out = Trickle(Vec::new());
        write_chunk(&mut out, b"id: 12\nevent: progress\n\n", Framing::Chunked)
            .await
            .unwrap();
        assert_eq!(out.0, b"18\r\nid: 12\nevent: progress\n\n\r\n");
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_stops_reading_is_given_up_after_the_write_timeout() {
        // The client end is never read: once the 64-byte pipe is full, the write waits.
        let (mut to_client, _client) = tokio::io::duplex(64);
        let started = tokio::time::Instant::now();
        let failed =
            within_write_timeout(write_chunk(&mut to_client, &[b'x'; 1024], Framing::Chunked))
                .await
                .unwrap_err();
        assert_eq!(failed.kind(), std::io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= WRITE_TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_chunk_the_client_takes_slowly_but_within_the_timeout_goes_out_whole() {
        let (mut to_client, mut client) = tokio::io::duplex(64);
        let reader = tokio::spawn(async move {
            let mut received = Vec::new();
            let mut buf = [0u8; 16];
            loop {
                tokio::time::sleep(WRITE_TIMEOUT / 12).await;
                match client.read(&mut buf).await {
                    Ok(0) | Err(_) => return received,
                    Ok(n) => received.extend_from_slice(&buf[..n]),
                }
            }
        });
        // 16 bytes every 5 s: the chunk waits on the client several times, 35 s in all.
        within_write_timeout(write_chunk(&mut to_client, &[b'x'; 100], Framing::Chunked))
            .await
            .unwrap();
        drop(to_client);
        let received = reader.await.unwrap();
        assert_eq!(received.len(), "64\r\n".len() + 100 + 2);
    }
}
