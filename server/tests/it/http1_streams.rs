//! Progress streams on fresh plain HTTP/1.1 connections, which the server answers outside
//! hyper's connection (`server::stream_connections`): spoken to byte by byte, as a client or a
//! reverse proxy sends them.

use domain::ContainerId;
use domain::container::Lifecycle;
use domain::event::EventKind;
use std::time::Duration;
use testkit::fixtures::progress_event as event;
use testkit::server::{TestApp, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A session cookie (`name=value`) of a new admin, from the login call's `Set-Cookie`.
pub(crate) async fn session_cookie(app: &TestApp) -> String {
    let name = app.user("correct horse battery").await;
    let response = app
        .client()
        .post(format!("{}/api/login", app.url))
        .header("content-type", "application/json")
        .body(
            serde_json::json!({"username": name, "password": "correct horse battery"}).to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

pub(crate) fn host(app: &TestApp) -> &str {
    app.url.trim_start_matches("http://")
}

/// A progress request as a browser's EventSource sends it to `host`.
pub(crate) fn progress_request(
    host: &str,
    container: ContainerId,
    version: &str,
    cookie: &str,
) -> String {
    format!(
        "GET /api/containers/{container}/progress {version}\r\nHost: {host}\r\nAccept: text/event-stream\r\nCookie: {cookie}\r\n\r\n"
    )
}

/// Waits until the server has the container's one stream open.
pub(crate) async fn open_on_the_server(app: &TestApp, container: ContainerId) {
    eventually("the stream is open on the server", || async {
        app.ctx.progress.stream_count(container) == 1
    })
    .await;
}

/// Waits until the server has let go of the container's stream (the stream ended or the client
/// left).
pub(crate) async fn let_go_on_the_server(app: &TestApp, container: ContainerId) {
    eventually("the server let go of the stream", || async {
        app.ctx.progress.stream_count(container) == 0
    })
    .await;
}

/// A response as read from the socket until the server closed it.
pub(crate) struct RawResponse {
    pub(crate) status_line: String,
    /// Header names lower-cased.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl RawResponse {
    /// The response whose head (status line, headers, blank line) is `head`.
    pub(crate) fn with_head(head: &[u8], body: Vec<u8>) -> RawResponse {
        let head = std::str::from_utf8(head).unwrap();
        let mut lines = head.trim_end().split("\r\n");
        let status_line = lines.next().unwrap().to_owned();
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("a header line");
                (name.to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        RawResponse {
            status_line,
            headers,
            body,
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body with the chunked framing taken off; fails unless it ends with the last chunk.
    pub(crate) fn dechunked(&self) -> String {
        let mut rest = &self.body[..];
        let mut text = Vec::new();
        loop {
            let line_end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("a chunk size line");
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16)
                .expect("a hexadecimal chunk size");
            rest = &rest[line_end + 2..];
            if size == 0 {
                assert_eq!(rest, b"\r\n", "the last chunk ends the body");
                return String::from_utf8(text).unwrap();
            }
            text.extend_from_slice(&rest[..size]);
            assert_eq!(&rest[size..size + 2], b"\r\n", "a chunk ends with CRLF");
            rest = &rest[size + 2..];
        }
    }
}

/// Reads until the server closes the connection (at most 20 s).
pub(crate) async fn read_to_close(socket: &mut TcpStream) -> RawResponse {
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), socket.read_to_end(&mut bytes))
        .await
        .expect("the server closes the connection")
        .unwrap();
    let head_end = head_end(&bytes).expect("a response head");
    RawResponse::with_head(&bytes[..head_end], bytes[head_end..].to_vec())
}

/// Where the response head in `bytes` ends (after its blank line), if it is all there.
pub(crate) fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

#[tokio::test]
async fn a_stream_on_a_fresh_connection_is_chunked_live_and_closed_after_its_last_event() {
    let app = TestApp::start().await;
    let cookie = session_cookie(&app).await;
    let container = app.container(Lifecycle::Creating).await;
    let mut socket = TcpStream::connect(host(&app)).await.unwrap();
    // The head in two pieces, as a slow client or proxy may send it.
    let request = progress_request(host(&app), container, "HTTP/1.1", &cookie);
    let (first, second) = request.split_at(30);
    socket.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    socket.write_all(second.as_bytes()).await.unwrap();

    open_on_the_server(&app, container).await;
    app.publish(container, &[event(1, EventKind::Log)]).await;
    app.publish(container, &[event(2, EventKind::Complete)])
        .await;
    let response = read_to_close(&mut socket).await;

    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.header("connection"), Some("close"));
    assert!(response.header("date").is_some(), "{:?}", response.headers);
    assert!(
        response.header("x-content-type-options").is_some(),
        "the security headers apply: {:?}",
        response.headers
    );
    let body = response.dechunked();
    assert!(
        body.starts_with("id: 1\nevent: progress\ndata: {"),
        "{body}"
    );
    assert!(body.contains("\nid: 2\nevent: progress\n"), "{body}");
    assert!(body.contains(r#""kind":"complete""#), "{body}");
    let_go_on_the_server(&app, container).await;
}

#[tokio::test]
async fn without_a_session_the_answer_is_a_readable_401_and_a_wrong_host_is_refused() {
    let app = TestApp::start().await;
    let container = app.container(Lifecycle::Creating).await;

    let mut socket = TcpStream::connect(host(&app)).await.unwrap();
    let request = progress_request(
        host(&app),
        container,
        "HTTP/1.1",
        "infrahaus_session=forged",
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let response = read_to_close(&mut socket).await;
    assert_eq!(response.status_line, "HTTP/1.1 401 Unauthorized");
    let length: usize = response.header("content-length").unwrap().parse().unwrap();
    assert_eq!(length, response.body.len());
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["error"], "unauthorized", "{body}");

    let mut socket = TcpStream::connect(host(&app)).await.unwrap();
    let request = format!(
        "GET /api/containers/{container}/progress HTTP/1.1\r\nHost: attacker.example\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let response = read_to_close(&mut socket).await;
    assert!(
        response.status_line.starts_with("HTTP/1.1 4"),
        "{}",
        response.status_line
    );
}

#[tokio::test]
async fn an_http10_client_gets_the_events_until_the_connection_closes() {
    let app = TestApp::start().await;
    let cookie = session_cookie(&app).await;
    let container = app.container(Lifecycle::Creating).await;
    let mut socket = TcpStream::connect(host(&app)).await.unwrap();
    let request = progress_request(host(&app), container, "HTTP/1.0", &cookie);
    socket.write_all(request.as_bytes()).await.unwrap();
    open_on_the_server(&app, container).await;
    app.publish(container, &[event(1, EventKind::Complete)])
        .await;
    let response = read_to_close(&mut socket).await;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(response.header("transfer-encoding"), None);
    let body = String::from_utf8(response.body).unwrap();
    assert!(
        body.starts_with("id: 1\nevent: progress\ndata: {"),
        "{body}"
    );
}

#[tokio::test]
async fn a_client_that_hangs_up_frees_its_stream_and_subscription() {
    let app = TestApp::start().await;
    let cookie = session_cookie(&app).await;
    let container = app.container(Lifecycle::Creating).await;
    let mut socket = TcpStream::connect(host(&app)).await.unwrap();
    // A head longer than most (a proxy's headers, many cookies) is served the same way.
    let padding = "p".repeat(3000);
    let request = progress_request(host(&app), container, "HTTP/1.1", &cookie).replacen(
        "\r\n\r\n",
        &format!("\r\nX-Padding: {padding}\r\n\r\n"),
        1,
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    open_on_the_server(&app, container).await;
    assert_eq!(app.subscribers(container).await, 1);
    let mut head = [0u8; 4096];
    let read = socket.read(&mut head).await.unwrap();
    let head = String::from_utf8_lossy(&head[..read]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(head.contains("\r\nconnection: close\r\n"), "{head}");
    drop(socket);
    let_go_on_the_server(&app, container).await;
    eventually("the channel is unsubscribed", || async {
        app.subscribers(container).await == 0
    })
    .await;
}

/// A server of `app`'s on a listener of its own, which stops when the returned sender is used;
/// its address and its `serve` task.
pub(crate) async fn stoppable_server(
    app: &TestApp,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = server::router(
        app.ctx.clone(),
        &testkit::site_root(),
        server::HostPolicy::loopback(address),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve(listener, router, async {
        let _ = stopped.await;
    }));
    (address, stop, serving)
}

/// After the stop: the stream on `socket` was answered `200` and ended with the last chunk (no
/// event was published), and the server's `serve` returned.
async fn the_stream_ends_cleanly_and_the_server_stops(
    socket: &mut TcpStream,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let response = read_to_close(socket).await;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(response.dechunked(), "", "no event was published");
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the server stops once its streams ended")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutting_the_server_down_ends_open_streams_cleanly() {
    let app = TestApp::start().await;
    let cookie = session_cookie(&app).await;
    let container = app.container(Lifecycle::Creating).await;
    let (address, stop, serving) = stoppable_server(&app).await;

    let mut socket = TcpStream::connect(address).await.unwrap();
    let request = progress_request(&address.to_string(), container, "HTTP/1.1", &cookie);
    socket.write_all(request.as_bytes()).await.unwrap();
    open_on_the_server(&app, container).await;
    stop.send(()).unwrap();
    the_stream_ends_cleanly_and_the_server_stops(&mut socket, serving).await;
}

/// A stream whose answer is still being prepared when the server starts stopping (here its
/// session check waits on a lock the test holds) still gets its head and a clean end.
#[tokio::test]
async fn a_stream_still_opening_when_the_server_stops_gets_an_answer_and_a_clean_end() {
    use diesel::sql_types::BigInt;
    use diesel_async::{AsyncConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }

    let app = TestApp::start().await;
    let cookie = session_cookie(&app).await;
    let container = app.container(Lifecycle::Creating).await;
    let (address, stop, serving) = stoppable_server(&app).await;
    let mut locker = diesel_async::AsyncPgConnection::establish(&app.database_url)
        .await
        .unwrap();
    diesel::sql_query("BEGIN")
        .execute(&mut locker)
        .await
        .unwrap();
    diesel::sql_query("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();

    let mut socket = TcpStream::connect(address).await.unwrap();
    let request = progress_request(&address.to_string(), container, "HTTP/1.1", &cookie);
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut watcher = diesel_async::AsyncPgConnection::establish(&app.database_url)
        .await
        .unwrap();
    let waiting_on_the_lock = async {
        loop {
            let waiting = diesel::sql_query(
                "SELECT count(*) AS count FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .get_result::<Waiting>(&mut watcher)
            .await
            .unwrap();
            if waiting.count > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), waiting_on_the_lock)
        .await
        .expect("the stream's session check waits on the lock");
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    diesel::sql_query("ROLLBACK")
        .execute(&mut locker)
        .await
        .unwrap();

    the_stream_ends_cleanly_and_the_server_stops(&mut socket, serving).await;
}

/// A client that stops reading while a deployment logs fast: the server's socket fills (the hub's
/// own writes stop, are taken in part, the stream falls behind and reads back from the table);
/// once the client reads again it gets every event once, in order, in whole chunks.
#[tokio::test]
async fn a_client_that_stops_reading_gets_every_event_once_in_order_when_it_reads_again() {
    use backend::models::event::EventRow;
    const EVENTS: i64 = 1200;

    let app = TestApp::start().await;
    let cookie = session_cookie(&app).await;
    let container = app.container(Lifecycle::Creating).await;
    let client = tokio::net::TcpSocket::new_v4().unwrap();
    client.set_recv_buffer_size(4096).unwrap();
    let mut socket = client.connect(host(&app).parse().unwrap()).await.unwrap();
    let request = progress_request(host(&app), container, "HTTP/1.1", &cookie);
    socket.write_all(request.as_bytes()).await.unwrap();
    open_on_the_server(&app, container).await;

    // Stored, then published, one flush per event as the worker's sink does: 4 MB in all.
    let mut conn = app.ctx.db.get().await.unwrap();
    for seq in 1..=EVENTS {
        let kind = if seq == EVENTS {
            EventKind::Complete
        } else {
            EventKind::Log
        };
        let batch = [domain::event::ProgressEvent {
            message: format!("line {seq} {}", "x".repeat(3500)),
            ..event(seq, kind)
        }];
        EventRow::insert_batch(&mut conn, container, &batch)
            .await
            .unwrap();
        app.publish(container, &batch).await;
    }
    let response = read_to_close(&mut socket).await;

    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    let body = response.dechunked();
    let ids: Vec<i64> = body
        .lines()
        .filter_map(|line| line.strip_prefix("id: "))
        .map(|id| id.parse().unwrap())
        .collect();
    assert_eq!(ids, (1..=EVENTS).collect::<Vec<_>>());
    for block in body
        .split_terminator("\n\n")
        .filter(|block| !block.starts_with(':'))
    {
        let data = block.lines().find_map(|line| line.strip_prefix("data: "));
        let parsed: domain::event::ProgressEvent =
            serde_json::from_str(data.expect("every event has data")).expect("whole JSON");
        assert!(parsed.message.ends_with(&"x".repeat(3500)));
    }
}
