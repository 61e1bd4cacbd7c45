//! Plain HTTP/1.1 keep-alive connections that hyper serves until a later request opens a
//! progress stream: that request and its connection then go to [`crate::stream_connections`],
//! so a stream opened on a reused connection (as browsers open their `EventSource` after the
//! page's other requests) costs what one on a fresh connection does, and the progress hub can
//! write to it directly.
//!
//! hyper reads the connection through [`HandoffIo`], which looks at each request head first
//! (peeking: the bytes stay in the socket) and lets hyper read that request's bytes only, its
//! head and its `Content-Length` body, never into the next request. When the next request is a
//! progress stream and every response hyper was asked for is finished and written out
//! (browsers send the next request on a connection only then), hyper is told the client closed:
//! it ends the idle connection without shutting the socket, and the stream is served as on a
//! fresh connection.
//! While earlier responses are still under way (a client that pipelines), hyper serves the
//! stream itself. A request whose body is not delimited by `Content-Length` (chunked, an
//! upgrade) or whose head hyper would refuse leaves the rest of the connection to hyper.

use crate::stream_connections::{self, MAX_HEADERS, PartialHead, StreamRequest};
use axum::body::{Body, Bytes, HttpBody};
use http::{Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Responses of one connection that hyper has finished with (sent, or given up).
#[derive(Clone, Default)]
pub struct FinishedResponses(Arc<AtomicU64>);

impl FinishedResponses {
    fn count(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// The connection as hyper reads and writes it.
pub struct HandoffIo {
    stream: TcpStream,
    reading: Reading,
    /// Requests whose heads hyper was given.
    requests_given: u64,
    finished: FinishedResponses,
    /// hyper's last write went out whole: it holds no response bytes the socket did not take.
    written_out: bool,
    /// Set while a request head that has not fully arrived waits to be looked at again.
    retry: Option<Pin<Box<tokio::time::Sleep>>>,
    /// How many times the current request head was waited for.
    partial_waits: u32,
}

/// Where the connection's incoming bytes stand.
enum Reading {
    /// The next bytes begin a request.
    AtRequest,
    /// This many bytes of the current request are still hyper's to read.
    InRequest(u64),
    /// No longer followed: every byte is hyper's.
    Unfollowed,
    /// The next request opens a progress stream; hyper was told the client closed.
    HandedOff(Box<StreamRequest>),
}

/// What the next request is, from its head.
enum NextRequest {
    Stream(Box<StreamRequest>),
    /// Any other request, this many bytes long with its body.
    Delimited(u64),
    /// A request whose end cannot be told from its head, or a head hyper refuses.
    Undelimited,
    /// The head has not fully arrived.
    Incomplete,
}

impl HandoffIo {
    pub fn new(stream: TcpStream, finished: FinishedResponses) -> HandoffIo {
        HandoffIo {
            stream,
            reading: Reading::AtRequest,
            requests_given: 0,
            finished,
            written_out: true,
            retry: None,
            partial_waits: 0,
        }
    }

    /// The socket and the progress-stream request waiting in it, when hyper ended the
    /// connection for one.
    pub fn into_handoff(self) -> Option<(TcpStream, Box<StreamRequest>)> {
        match self.reading {
            Reading::HandedOff(request) => Some((self.stream, request)),
            _ => None,
        }
    }

    /// Looks at the next request's head and decides what hyper reads of it. Ready with
    /// `false` when the client closed before sending another request.
    fn poll_next_request(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<bool>> {
        let mut peeked = vec![0u8; stream_connections::FIRST_PEEK];
        loop {
            if let Some(retry) = self.retry.as_mut() {
                ready!(retry.as_mut().poll(cx));
                self.retry = None;
            }
            let mut view = ReadBuf::new(&mut peeked);
            let len = ready!(self.stream.poll_peek(cx, &mut view))?;
            if len == 0 {
                return Poll::Ready(Ok(false));
            }
            self.reading = match next_request(&peeked[..len]) {
                NextRequest::Stream(request)
                    if self.requests_given == self.finished.count() && self.written_out =>
                {
                    Reading::HandedOff(request)
                }
                NextRequest::Stream(request) => {
                    self.requests_given += 1;
                    Reading::InRequest(request.head_len() as u64)
                }
                NextRequest::Delimited(len) => {
                    self.requests_given += 1;
                    Reading::InRequest(len)
                }
                NextRequest::Undelimited => Reading::Unfollowed,
                NextRequest::Incomplete => {
                    match stream_connections::partial_head(
                        &mut peeked,
                        len,
                        &mut self.partial_waits,
                    ) {
                        PartialHead::PeekAgain => continue,
                        PartialHead::Wait(delay) => {
                            self.retry = Some(Box::pin(tokio::time::sleep(delay)));
                            continue;
                        }
                        PartialHead::TooLong => Reading::Unfollowed,
                    }
                }
            };
            self.partial_waits = 0;
            return Poll::Ready(Ok(true));
        }
    }
}

/// Reads a request head: a progress stream, or how long the request is.
fn next_request(bytes: &[u8]) -> NextRequest {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(head_len)) => {
            if let Some(request) = stream_connections::stream_request(&parsed, head_len) {
                return NextRequest::Stream(Box::new(request));
            }
            match body_length(&parsed) {
                Some(body) => NextRequest::Delimited(head_len as u64 + body),
                None => NextRequest::Undelimited,
            }
        }
        Ok(httparse::Status::Partial) => NextRequest::Incomplete,
        Err(_) => NextRequest::Undelimited,
    }
}

/// The body's length when the head says it exactly (none is 0); `None` for a chunked body,
/// an upgrade, a tunnel, or lengths that disagree or do not parse.
fn body_length(parsed: &httparse::Request<'_, '_>) -> Option<u64> {
    if parsed.method == Some("CONNECT") {
        return None;
    }
    let mut length = None;
    for header in parsed.headers.iter() {
        if header.name.eq_ignore_ascii_case("transfer-encoding")
            || header.name.eq_ignore_ascii_case("upgrade")
        {
            return None;
        }
        if header.name.eq_ignore_ascii_case("content-length") {
            let value: u64 = std::str::from_utf8(header.value)
                .ok()?
                .trim()
                .parse()
                .ok()?;
            if length.is_some_and(|known| known != value) {
                return None;
            }
            length = Some(value);
        }
    }
    Some(length.unwrap_or(0))
}

impl AsyncRead for HandoffIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.reading {
                Reading::Unfollowed => return Pin::new(&mut this.stream).poll_read(cx, buf),
                // hyper sees the end of the connection.
                Reading::HandedOff(_) => return Poll::Ready(Ok(())),
                Reading::AtRequest => {
                    if !ready!(this.poll_next_request(cx))? {
                        return Poll::Ready(Ok(()));
                    }
                }
                Reading::InRequest(left) => {
                    let room = buf
                        .remaining()
                        .min(usize::try_from(*left).unwrap_or(usize::MAX));
                    let mut limited = ReadBuf::new(buf.initialize_unfilled_to(room));
                    ready!(Pin::new(&mut this.stream).poll_read(cx, &mut limited))?;
                    let read = limited.filled().len();
                    buf.advance(read);
                    *left -= read as u64;
                    if *left == 0 {
                        this.reading = Reading::AtRequest;
                    }
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}

impl AsyncWrite for HandoffIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.written_out = matches!(written, Poll::Ready(Ok(n)) if n == buf.len());
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let offered: usize = bufs.iter().map(|buf| buf.len()).sum();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.written_out = matches!(written, Poll::Ready(Ok(n)) if n == offered);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// A connection's service for hyper: `inner`, with each response counted in `finished` once
/// hyper is done with its body.
#[derive(Clone)]
pub struct CountingService<S> {
    pub inner: S,
    pub finished: FinishedResponses,
}

impl<S, B> hyper::service::Service<Request<B>> for CountingService<S>
where
    S: tower::Service<Request<B>, Response = Response<Body>, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<CountedBody>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        let finished = self.finished.clone();
        Box::pin(async move {
            let response = tower::ServiceExt::oneshot(inner, request).await?;
            Ok(response.map(|body| CountedBody { body, finished }))
        })
    }
}

/// A response body that counts itself as finished when hyper drops it, which hyper does before
/// it writes the body's last bytes.
pub struct CountedBody {
    body: Body,
    finished: FinishedResponses,
}

impl Drop for CountedBody {
    fn drop(&mut self) {
        self.finished.0.fetch_add(1, Ordering::AcqRel);
    }
}

impl HttpBody for CountedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn length_of(head: &str) -> Option<u64> {
        match next_request(head.as_bytes()) {
            NextRequest::Delimited(len) => Some(len),
            NextRequest::Undelimited => None,
            NextRequest::Stream(_) => panic!("not a stream: {head}"),
            NextRequest::Incomplete => panic!("complete: {head}"),
        }
    }

    #[test]
    fn a_request_is_its_head_and_its_content_length() {
        let get = "GET /app.css HTTP/1.1\r\nHost: h\r\n\r\n";
        assert_eq!(length_of(get), Some(get.len() as u64));
        let post = "POST /api/x HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n";
        assert_eq!(length_of(post), Some(post.len() as u64 + 12));
        // Bytes after the head (its body, the next request) are not counted.
        assert_eq!(
            length_of(&format!("{get}GET /next HTTP/1.1\r\n")),
            Some(get.len() as u64)
        );
    }

    #[test]
    fn a_body_without_an_exact_length_is_not_followed() {
        for head in [
            "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET /x HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: -3\r\n\r\n",
            "CONNECT h:443 HTTP/1.1\r\n\r\n",
            "GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
        ] {
            assert_eq!(length_of(head), None, "{head}");
        }
    }

    #[test]
    fn a_progress_stream_and_a_partial_head_are_told_apart() {
        let stream = "GET /api/containers/7/progress HTTP/1.1\r\nHost: h\r\n\r\n";
        assert!(matches!(
            next_request(stream.as_bytes()),
            NextRequest::Stream(_)
        ));
        assert!(matches!(
            next_request(&stream.as_bytes()[..40]),
            NextRequest::Incomplete
        ));
        assert!(matches!(
            next_request(b"POST /api/x HTTP/1.1\r\nHost:"),
            NextRequest::Incomplete
        ));
    }
}
