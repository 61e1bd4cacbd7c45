//! Progress streams opened on plain HTTP/1.1 connections that served other requests first, as
//! a browser reuses a kept-alive connection for its EventSource (`server::keep_alive_handoff`).

use crate::http1_streams::{
    RawResponse, head_end, host, let_go_on_the_server, open_on_the_server, progress_request,
    read_to_close, session_cookie, stoppable_server,
};
use domain::container::Lifecycle;
use domain::event::EventKind;
use std::time::Duration;
use testkit::fixtures::progress_event as event;
use testkit::server::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads one response of a connection that stays open: its head, then a `Content-Length` or
/// chunked body (at most 20 s). `unread` holds bytes read past it, for the next response.
async fn read_response(socket: &mut TcpStream, unread: &mut Vec<u8>) -> RawResponse {
    let reading = async {
        loop {
            if let Some(head_len) = head_end(unread) {
                let response = RawResponse::with_head(&unread[..head_len], Vec::new());
                let body = &unread[head_len..];
                let body_len = match response.header("content-length") {
                    Some(length) => Some(length.parse::<usize>().unwrap())
                        .filter(|&length| body.len() >= length),
                    None => chunked_len(body),
                };
                if let Some(body_len) = body_len {
                    let body = unread[head_len..head_len + body_len].to_vec();
                    unread.drain(..head_len + body_len);
                    return RawResponse { body, ..response };
                }
            }
            let mut bytes = [0u8; 4096];
            let read = socket.read(&mut bytes).await.unwrap();
            assert!(read > 0, "the server closed the connection mid-response");
            unread.extend_from_slice(&bytes[..read]);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), reading)
        .await
        .expect("a whole response")
}

/// The length of the chunked body at the start of `bytes`, once its last chunk is there.
fn chunked_len(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let line_end = at + bytes[at..].windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&bytes[at..line_end]).unwrap(), 16).unwrap();
        at = line_end + 2 + size + 2;
        if bytes.len() < at {
            return None;
        }
        if size == 0 {
            return Some(at);
        }
    }
}

/// The log-in call for `name` as the browser sends it, body and all.
fn login_request(host: &str, name: &str) -> String {
    let body =
        serde_json::json!({"username": name, "password": "correct horse battery"}).to_string();
    format!(
        "POST /api/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn health_request(host: &str) -> String {
    format!("GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n")
}

/// The `id:` lines of a stream's body.
fn event_ids(body: &str) -> Vec<i64> {
    body.lines()
        .filter_map(|line| line.strip_prefix("id: "))
        .map(|id| id.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn a_stream_opened_after_other_requests_on_a_kept_alive_connection_is_served_as_on_a_fresh_one()
 {
    let app = TestApp::start().await;
    let name = app.user("correct horse battery").await;
    let container = app.container(Lifecycle::Creating).await;
    let mut socket = TcpStream::connect(host(&app)).await.unwrap();
    let mut unread = Vec::new();

    // A call with a body, then a plain GET, then the stream: one connection, one at a time.
    socket
        .write_all(login_request(host(&app), &name).as_bytes())
        .await
        .unwrap();
    let login = read_response(&mut socket, &mut unread).await;
    assert_eq!(login.status_line, "HTTP/1.1 200 OK");
    let cookie = login
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let cookie = cookie.to_owned();
    socket
        .write_all(health_request(host(&app)).as_bytes())
        .await
        .unwrap();
    let health = read_response(&mut socket, &mut unread).await;
    assert_eq!(health.body, b"ok");
    assert_eq!(
        health.header("connection"),
        None,
        "the connection stays open"
    );
    socket
        .write_all(progress_request(host(&app), container, "HTTP/1.1", &cookie).as_bytes())
        .await
        .unwrap();

    open_on_the_server(&app, container).await;
    app.publish(container, &[event(1, EventKind::Log)]).await;
    app.publish(container, &[event(2, EventKind::Complete)])
        .await;
    let stream = read_to_close(&mut socket).await;
    assert!(unread.is_empty(), "nothing came between the responses");

    // As on a fresh connection: the lean path's head, and the connection closed after the
    // last event (hyper's would have stayed open).
    assert_eq!(stream.status_line, "HTTP/1.1 200 OK");
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert_eq!(stream.header("transfer-encoding"), Some("chunked"));
    assert_eq!(stream.header("connection"), Some("close"));
    assert_eq!(event_ids(&stream.dechunked()), [1, 2]);
    let_go_on_the_server(&app, container).await;
}

/// Where the stream cannot be handed over (earlier responses still under way, or a request body
/// whose end the server does not follow), hyper answers it on the same connection.
#[tokio::test]
async fn a_stream_behind_a_pipelined_or_chunked_request_is_answered_on_the_same_connection() {
    let app = TestApp::start().await;
    let cookie = session_cookie(&app).await;
    let chunked_call = format!(
        "POST /api/unknown HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n",
        host(&app)
    );
    for (case, wait_for_first) in [
        ("pipelined behind a GET", false),
        ("after a chunked request body", true),
    ] {
        let container = app.container(Lifecycle::Creating).await;
        let mut socket = TcpStream::connect(host(&app)).await.unwrap();
        let mut unread = Vec::new();
        let first = if wait_for_first {
            chunked_call.clone()
        } else {
            health_request(host(&app))
        };
        let stream_request = progress_request(host(&app), container, "HTTP/1.1", &cookie);
        if wait_for_first {
            socket.write_all(first.as_bytes()).await.unwrap();
            let answer = read_response(&mut socket, &mut unread).await;
            assert!(answer.status_line.starts_with("HTTP/1.1 4"), "{case}");
            socket.write_all(stream_request.as_bytes()).await.unwrap();
        } else {
            socket
                .write_all(format!("{first}{stream_request}").as_bytes())
                .await
                .unwrap();
            let health = read_response(&mut socket, &mut unread).await;
            assert_eq!(health.body, b"ok", "{case}");
        }

        open_on_the_server(&app, container).await;
        app.publish(container, &[event(1, EventKind::Log)]).await;
        app.publish(container, &[event(2, EventKind::Complete)])
            .await;
        let stream = read_response(&mut socket, &mut unread).await;
        assert_eq!(stream.status_line, "HTTP/1.1 200 OK", "{case}");
        assert_eq!(
            stream.header("content-type"),
            Some("text/event-stream"),
            "{case}"
        );
        assert_eq!(event_ids(&stream.dechunked()), [1, 2], "{case}");
    }
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_when_the_server_stops() {
    let app = TestApp::start().await;
    let (address, stop, serving) = stoppable_server(&app).await;
    let mut socket = TcpStream::connect(address).await.unwrap();
    let mut unread = Vec::new();
    socket
        .write_all(health_request(&address.to_string()).as_bytes())
        .await
        .unwrap();
    assert_eq!(read_response(&mut socket, &mut unread).await.body, b"ok");

    stop.send(()).unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut rest))
        .await
        .expect("the server closes the idle connection")
        .unwrap();
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}
