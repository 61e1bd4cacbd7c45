//! HTTP/2 and TLS: the server's own TLS listener (a self-signed certificate, ALPN h2 and
//! http/1.1), HTTP/2 with prior knowledge (h2c) on the plain listener, and HTTP/1.1 on both.
//! The client trusts exactly the generated certificate.

use backend::models::event::EventRow;
use domain::container::Lifecycle;
use reqwest::Version;
use server::tls::{TlsIdentity, TlsSource};
use std::time::Duration;
use testkit::fixtures::log_event;
use testkit::server::TestApp;

/// The app over plain HTTP (`app.url`), and over TLS with a new self-signed certificate.
struct Served {
    app: TestApp,
    https: String,
    identity: TlsIdentity,
    _dir: tempfile::TempDir,
}

async fn serve() -> Served {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let identity = TlsIdentity::load(&TlsSource::SelfSigned {
        dir: dir.path().to_owned(),
        names: vec!["localhost".into(), "127.0.0.1".into()],
    })
    .unwrap();
    let https = server::spawn_tls_on_loopback(
        app.ctx.clone(),
        &testkit::site_root(),
        identity.acceptor.clone(),
    )
    .await
    .unwrap();
    Served {
        app,
        https,
        identity,
        _dir: dir,
    }
}

/// A cookie-keeping client that trusts only the generated certificate.
fn client(
    served: &Served,
    configure: fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> reqwest::Client {
    pve_client::tls::install_default_provider();
    let pem = std::fs::read(&served.identity.cert_path).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        testkit::unique_client_address().parse().unwrap(),
    );
    configure(
        reqwest::Client::builder()
            .default_headers(headers)
            .cookie_store(true)
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()]),
    )
    .build()
    .unwrap()
}

async fn log_in(app: &TestApp, client: &reqwest::Client, base: &str) {
    let name = app.user("correct horse battery").await;
    let response = client
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": name, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Waits until the server listens for the container's live events.
async fn subscribed(app: &TestApp, container: domain::ContainerId) {
    testkit::server::eventually("the stream subscribes", || async {
        app.subscribers(container).await > 0
    })
    .await;
}

/// Reads a streaming response until its text contains `needle`; fails after 20 s.
async fn read_until(response: &mut reqwest::Response, seen: &mut String, needle: &str) {
    tokio::time::timeout(Duration::from_secs(20), async {
        while !seen.contains(needle) {
            let chunk = response
                .chunk()
                .await
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{needle:?} did not arrive; got {seen:?}"));
}

/// The SPA, a login and a progress stream (stored events, then live ones) over `client`.
async fn spa_login_and_stream(
    served: &Served,
    client: &reqwest::Client,
    base: &str,
    version: Version,
) {
    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.version(), version);
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<html"));

    log_in(&served.app, client, base).await;
    let container = served.app.container(Lifecycle::Creating).await;
    let mut conn = served.app.ctx.db.get().await.unwrap();
    EventRow::insert_batch(&mut conn, container, &[log_event(1)])
        .await
        .unwrap();
    let mut stream = client
        .get(format!("{base}/api/containers/{container}/progress"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.version(), version);
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    read_until(&mut stream, &mut seen, "\"line 1\"").await;
    subscribed(&served.app, container).await;
    served.app.publish(container, &[log_event(2)]).await;
    read_until(&mut stream, &mut seen, "\"line 2\"").await;
}

#[tokio::test]
async fn http2_over_tls_by_alpn_serves_the_spa_and_a_progress_stream() {
    let served = serve().await;
    let client = client(&served, |b| b);
    spa_login_and_stream(&served, &client, &served.https, Version::HTTP_2).await;
}

#[tokio::test]
async fn http1_over_tls_still_works() {
    let served = serve().await;
    let client = client(&served, reqwest::ClientBuilder::http1_only);
    spa_login_and_stream(&served, &client, &served.https, Version::HTTP_11).await;
}

#[tokio::test]
async fn h2c_with_prior_knowledge_and_http1_work_on_the_plain_listener() {
    let served = serve().await;
    let h2c = client(&served, reqwest::ClientBuilder::http2_prior_knowledge);
    spa_login_and_stream(&served, &h2c, &served.app.url, Version::HTTP_2).await;
    let http1 = client(&served, |b| b);
    spa_login_and_stream(&served, &http1, &served.app.url, Version::HTTP_11).await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_is_refused() {
    let served = serve().await;
    pve_client::tls::install_default_provider();
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(other.cert.pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let error = client.get(&served.https).send().await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");
}

#[tokio::test]
async fn the_fingerprint_is_the_certificate_s_sha256() {
    let served = serve().await;
    let pem = std::fs::read_to_string(&served.identity.cert_path).unwrap();
    use rustls::pki_types::pem::PemObject;
    let der = rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
    let expected =
        pve_client::tls::format_fingerprint(&pve_client::tls::certificate_fingerprint(&der));
    assert_eq!(served.identity.fingerprint, expected);
}

#[tokio::test]
async fn ten_streams_stay_live_while_a_page_loads_over_http2() {
    let served = serve().await;
    let client = client(&served, |b| b);
    log_in(&served.app, &client, &served.https).await;
    let mut streams = Vec::new();
    for _ in 0..10 {
        let container = served.app.container(Lifecycle::Creating).await;
        let stream = client
            .get(format!(
                "{}/api/containers/{container}/progress",
                served.https
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(stream.version(), Version::HTTP_2);
        assert_eq!(stream.status(), 200);
        streams.push((container, stream, String::new()));
    }
    let page = client.get(&served.https).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<html"));
    for (container, stream, seen) in &mut streams {
        subscribed(&served.app, *container).await;
        served.app.publish(*container, &[log_event(1)]).await;
        read_until(stream, seen, "\"line 1\"").await;
    }
}

/// Writes `parts` to a new connection to the plain listener, pausing between them, and returns
/// the first line of the answer.
async fn answer_to_pieces(url: &str, parts: &[&[u8]]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    for part in parts {
        socket.write_all(part).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(n > 0, "the server closed the connection without answering");
        answer.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_request_arriving_in_pieces_is_still_told_apart_from_http2() {
    let app = TestApp::start().await;
    // "P" could begin the HTTP/2 preface ("PRI * HTTP/2.0"): the server waits for more.
    let addr = app.url.trim_start_matches("http://").to_owned();
    let rest = format!("OST /health HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n");
    let status = answer_to_pieces(&app.url, &[b"P", rest.as_bytes()]).await;
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    // Half of the preface, then the rest: HTTP/2 (the server's SETTINGS frame comes first).
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    socket.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    socket.write_all(b"\r\nSM\r\n\r\n").await.unwrap();
    // An empty SETTINGS frame: length 0, type 4, flags 0, stream 0.
    socket
        .write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0])
        .await
        .unwrap();
    let mut header = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(10), socket.read_exact(&mut header))
        .await
        .expect("a frame within 10 s")
        .unwrap();
    assert_eq!(
        header[3], 4,
        "the server's first frame is SETTINGS: {header:?}"
    );
}
