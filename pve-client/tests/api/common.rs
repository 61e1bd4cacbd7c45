//! A scripted HTTPS stand-in for pveproxy on 127.0.0.1 with a fresh self-signed certificate.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use axum_server::tls_rustls::RustlsConfig;
use pve_client::{Auth, ClientConfig, PveClient, Trust};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The fixtures shared with the simulator; the tests fail when the folder is missing.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/pve/fixtures")
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path below `/api2/json`, percent-decoded.
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub headers: HeaderMap,
    pub raw_body: String,
    pub form: BTreeMap<String, String>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub reason: Option<String>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    /// `200 OK` with `{"data": value}`.
    pub fn data(value: serde_json::Value) -> Self {
        Reply::raw(200, None, serde_json::json!({ "data": value }).to_string())
    }

    pub fn raw(status: u16, reason: Option<&str>, body: impl Into<String>) -> Self {
        Reply {
            status,
            reason: reason.map(str::to_owned),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// A fixture body with the status line from its `.src.txt` sidecar.
    pub fn fixture(name: &str) -> Self {
        let dir = fixtures_dir();
        let body = std::fs::read_to_string(dir.join(format!("{name}.json")))
            .or_else(|_| std::fs::read_to_string(dir.join(format!("{name}.empty-body"))))
            .unwrap_or_else(|e| panic!("fixture {name} in {}: {e}", dir.display()));
        let (status, reason) = fixture_status(name);
        Reply::raw(status, reason.as_deref(), body)
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// Status code and reason phrase from a fixture's `http:` line; `200 OK` when there is none.
pub fn fixture_status(name: &str) -> (u16, Option<String>) {
    let path = fixtures_dir().join(format!("{name}.src.txt"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("sidecar {}: {e}", path.display()));
    match text.lines().find_map(|l| l.strip_prefix("http: ")) {
        Some(line) => {
            let (code, reason) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
            (
                code.parse().expect("numeric status"),
                Some(reason.to_owned()),
            )
        }
        None => (200, Some("OK".into())),
    }
}

/// Everything any test logs, at TRACE level, so tests can check what never appears in logs.
///
/// Installed as the global subscriber by the first server start: a thread-local subscriber
/// misses events when other tests hit the same callsites concurrently.
pub fn captured_logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        logs
    })
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Responder = dyn Fn(&Recorded) -> Reply + Send + Sync;

struct State {
    requests: Mutex<Vec<Recorded>>,
    responder: Mutex<Arc<Responder>>,
}

/// A running fake server.
pub struct MockPve {
    pub addr: SocketAddr,
    /// SHA-256 of the server certificate's DER.
    pub fingerprint: [u8; 32],
    state: Arc<State>,
    handle: axum_server::Handle<SocketAddr>,
}

impl MockPve {
    /// Starts a server answering every request through `responder`.
    pub async fn start(responder: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        captured_logs();
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .expect("self-signed cert");
        let cert_der = certified.cert.der().to_vec();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert_der.clone())], key)
            .expect("server cert");

        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            responder: Mutex::new(Arc::new(responder)),
        });
        let app = axum::Router::new().fallback({
            let state = state.clone();
            move |req: Request<Body>| handle(state.clone(), req)
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let handle = axum_server::Handle::new();
        let server =
            axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(Arc::new(tls)))
                .expect("server")
                .handle(handle.clone());
        tokio::spawn(async move {
            let _ = server.serve(app.into_make_service()).await;
        });
        MockPve {
            addr,
            fingerprint: pve_client::tls::certificate_fingerprint(&cert_der),
            state,
            handle,
        }
    }

    /// Replaces the responder.
    pub fn respond(&self, responder: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) {
        *self.state.responder.lock().unwrap() = Arc::new(responder);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Forgets the recorded requests.
    pub fn clear(&self) {
        self.state.requests.lock().unwrap().clear();
    }

    pub fn config(&self, auth: Auth) -> ClientConfig {
        ClientConfig::new(
            "127.0.0.1",
            self.addr.port(),
            auth,
            Trust::PinnedSha256(self.fingerprint),
        )
    }

    /// A client that pins this server's certificate.
    pub fn client(&self, auth: Auth) -> PveClient {
        PveClient::new(self.config(auth)).expect("client")
    }
}

impl Drop for MockPve {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

pub fn token() -> Auth {
    Auth::ApiToken {
        token_id: "infra@pve!ci".into(),
        secret: "0b7c7a0e-3f2a-4d5e-9c1b-aaaaaaaaaaaa".into(),
    }
}

pub fn password() -> Auth {
    Auth::Password {
        username: "alice@pve".into(),
        password: "correct horse".into(),
    }
}

async fn handle(state: Arc<State>, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let raw_body = String::from_utf8_lossy(&bytes).into_owned();
    let path = parts.uri.path();
    let path = percent_decode(path.strip_prefix("/api2/json").unwrap_or(path));
    let query = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let form = form_urlencoded::parse(raw_body.as_bytes())
        .into_owned()
        .collect();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path,
        query,
        headers: parts.headers,
        raw_body,
        form,
    };
    state.requests.lock().unwrap().push(recorded.clone());
    let responder = state.responder.lock().unwrap().clone();
    let reply = responder(&recorded);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder()
        .status(StatusCode::from_u16(reply.status).expect("valid status"))
        .header("content-type", "application/json;charset=UTF-8")
        .body(Body::from(reply.body))
        .expect("response");
    if let Some(reason) = reply.reason {
        response
            .extensions_mut()
            .insert(hyper::ext::ReasonPhrase::try_from(reason.into_bytes()).expect("valid reason"));
    }
    response
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}
