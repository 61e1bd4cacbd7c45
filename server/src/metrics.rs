//! The server's operations routes and what it records for them.
//!
//! - `GET /metrics`: Prometheus text, without a session, only to the client addresses in
//!   `INFRAHAUS_METRICS_ALLOW` (comma-separated addresses or `address/prefix` networks; default
//!   `127.0.0.0/8,::1`); 403 to others. The client address is the one login throttling uses
//!   (`X-Forwarded-For` only from `INFRAHAUS_TRUSTED_PROXIES`).
//! - `GET /ready`: 200 when PostgreSQL and Redis both answer within a second, else 503 naming
//!   what is away. `/health` stays the liveness check.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `infrahaus_progress_streams_open` | gauge | |
//! | `infrahaus_progress_events_sent_total` | counter | |
//! | `infrahaus_progress_fanout_seconds` | histogram (fine buckets, [`backend::metrics::FANOUT_BUCKETS`]) | |
//! | `infrahaus_server_fn_requests_total` | counter | `name`, `status` |
//! | `infrahaus_http_request_duration_seconds` | histogram | `route` (`api/NAME`, `progress`, `page`) |
//! | `infrahaus_login_failures_total` | counter | (wrong name or password) |
//! | `infrahaus_login_throttled_total` | counter | (refused: too many attempts) |

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use app::error::AppError;
use app::ssr::ServerContext;
use axum::Extension;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use backend::config::{ConfigError, var_or};
use http::{HeaderMap, StatusCode};

use crate::refusal;

/// The client addresses `/metrics` answers (`INFRAHAUS_METRICS_ALLOW`). Give it to the router
/// as an [`Extension`]; without one, loopback only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsAllow(Vec<(IpAddr, u8)>);

impl MetricsAllow {
    /// `127.0.0.0/8` and `::1`.
    pub fn loopback() -> Self {
        MetricsAllow(vec![
            (IpAddr::from([127, 0, 0, 0]), 8),
            (IpAddr::from(std::net::Ipv6Addr::LOCALHOST), 128),
        ])
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(&var_or("INFRAHAUS_METRICS_ALLOW", "")?).map_err(|reason| {
            ConfigError::Malformed {
                name: "INFRAHAUS_METRICS_ALLOW",
                reason,
            }
        })
    }

    /// Comma-separated addresses and `address/prefix` networks; empty means loopback.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (address, prefix) = item.split_once('/').unwrap_or((item, ""));
            let address: IpAddr = address
                .parse()
                .map_err(|_| format!("{item:?} is not an address or network"))?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                "" => max,
                p => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| format!("{item:?} has a bad prefix length"))?,
            };
            nets.push((address, prefix));
        }
        Ok(if nets.is_empty() {
            Self::loopback()
        } else {
            MetricsAllow(nets)
        })
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0
            .iter()
            .any(|(net, prefix)| in_network(ip, *net, *prefix))
    }
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let shift = |bits: u32, width: u32| width.saturating_sub(u32::from(prefix)).min(bits);
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let s = shift(32, 32);
            s == 32 || u32::from(a) >> s == u32::from(b) >> s
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let s = shift(128, 128);
            s == 128 || u128::from(a) >> s == u128::from(b) >> s
        }
        _ => false,
    }
}

/// `/metrics` and `/ready`, for the router (outside the session layer, inside the host check).
pub fn routes(ctx: ServerContext) -> Router {
    backend::metrics::install();
    static DESCRIBED: std::sync::Once = std::sync::Once::new();
    DESCRIBED.call_once(describe);
    Router::new()
        .route("/metrics", get(metrics))
        .route("/ready", get(ready))
        .with_state(ctx)
}

async fn metrics(
    State(ctx): State<ServerContext>,
    allow: Option<Extension<MetricsAllow>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = ctx.client_address(peer.ip(), forwarded);
    let allowed = match allow {
        Some(Extension(allow)) => allow.allows(client),
        None => MetricsAllow::loopback().allows(client),
    };
    if !allowed {
        return refusal::respond(&AppError::Forbidden(
            "Metrics are served only to the addresses in INFRAHAUS_METRICS_ALLOW.".into(),
        ));
    }
    backend::metrics::exposition().into_response()
}

async fn ready(State(ctx): State<ServerContext>) -> Response {
    match backend::metrics::readiness(&ctx.db, &ctx.redis)
        .await
        .away()
    {
        None => (StatusCode::OK, "ready").into_response(),
        Some(away) => refusal::respond(&AppError::Unavailable(away)),
    }
}

/// The `# HELP` texts; the counters that may stay at zero for long are shown from the start.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        "infrahaus_progress_streams_open",
        "Progress streams (Server-Sent Events) open now."
    );
    describe_counter!(
        "infrahaus_progress_events_sent_total",
        "Progress events written to streams."
    );
    describe_histogram!(
        backend::metrics::FANOUT_METRIC,
        Unit::Seconds,
        "Time from a published batch of events reaching the server to a stream handing it to its connection."
    );
    describe_counter!(
        "infrahaus_server_fn_requests_total",
        "Server function calls by name and HTTP status."
    );
    describe_histogram!(
        "infrahaus_http_request_duration_seconds",
        Unit::Seconds,
        "Time to the response head, by route (api/NAME, progress, page)."
    );
    describe_counter!(
        "infrahaus_login_failures_total",
        "Logins refused for a wrong user name or password."
    );
    describe_counter!(
        "infrahaus_login_throttled_total",
        "Logins refused for too many attempts."
    );
    metrics::counter!("infrahaus_login_failures_total").increment(0);
    metrics::counter!("infrahaus_login_throttled_total").increment(0);
    metrics::gauge!("infrahaus_progress_streams_open").increment(0.0);
}

/// The server functions' paths, so a label never takes a path nobody registered.
fn known_server_fns() -> &'static HashSet<&'static str> {
    static PATHS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    PATHS.get_or_init(|| server_fn::axum::server_fn_paths().map(|(p, _)| p).collect())
}

/// Times every request and counts server-function calls by name and status (login failures
/// and throttles also on their own).
pub async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = req.uri().path();
    let name = path.strip_prefix("/api/").map(|rest| {
        if known_server_fns().contains(path) {
            rest.to_owned()
        } else {
            "unknown".to_owned()
        }
    });
    let route = match &name {
        _ if crate::progress::is_route_path(path) => "progress".to_owned(),
        Some(name) => format!("api/{name}"),
        None => "page".to_owned(),
    };
    let response = next.run(req).await;
    let status = response.status().as_u16();
    metrics::histogram!("infrahaus_http_request_duration_seconds", "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    if let Some(name) = name.filter(|_| route != "progress") {
        if name == "login" {
            match status {
                401 => metrics::counter!("infrahaus_login_failures_total").increment(1),
                429 => metrics::counter!("infrahaus_login_throttled_total").increment(1),
                _ => {}
            }
        }
        metrics::counter!("infrahaus_server_fn_requests_total", "name" => name, "status" => status.to_string())
            .increment(1);
    }
    response
}

/// A published batch handed to one stream's connection `elapsed` after it reached the server.
pub fn fanout_time(elapsed: std::time::Duration) {
    static FANOUT: OnceLock<metrics::Histogram> = OnceLock::new();
    FANOUT
        .get_or_init(|| per_frame_handle(|| metrics::histogram!(backend::metrics::FANOUT_METRIC)))
        .record(elapsed.as_secs_f64());
}

/// A metric recorded once per stream and event, looked up once: at 1,000 streams the lookup by
/// name would cost as much per event as the writes it counts. The recorder is installed first,
/// so the handle is never one of the no-op recorder's.
fn per_frame_handle<T>(lookup: impl FnOnce() -> T) -> T {
    backend::metrics::install();
    lookup()
}

/// Progress events written to a stream.
pub fn events_sent(count: usize) {
    static SENT: OnceLock<metrics::Counter> = OnceLock::new();
    SENT.get_or_init(|| {
        per_frame_handle(|| metrics::counter!("infrahaus_progress_events_sent_total"))
    })
    .increment(count as u64);
}

/// A progress stream's body that counts itself in `infrahaus_progress_streams_open` while it
/// exists.
pub fn counted_stream<S>(inner: S) -> CountedStream<S> {
    metrics::gauge!("infrahaus_progress_streams_open").increment(1.0);
    CountedStream { inner }
}

pub struct CountedStream<S> {
    inner: S,
}

impl<S> Drop for CountedStream<S> {
    fn drop(&mut self) {
        metrics::gauge!("infrahaus_progress_streams_open").decrement(1.0);
    }
}

impl<S: futures::Stream + Unpin> futures::Stream for CountedStream<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::MetricsAllow;

    #[test]
    fn allow_list_takes_addresses_and_networks() {
        let allow = MetricsAllow::parse("10.0.0.0/8, 192.168.1.5,fd00::/8").unwrap();
        for ok in ["10.1.2.3", "192.168.1.5", "fd00::1", "::ffff:10.0.0.1"] {
            assert!(allow.allows(ok.parse().unwrap()), "{ok}");
        }
        for no in ["127.0.0.1", "192.168.1.6", "11.0.0.1", "fe80::1"] {
            assert!(!allow.allows(no.parse().unwrap()), "{no}");
        }
        assert!(
            MetricsAllow::parse("0.0.0.0/0")
                .unwrap()
                .allows("8.8.8.8".parse().unwrap())
        );
        assert!(MetricsAllow::parse("10.0.0.0/33").is_err());
        assert!(MetricsAllow::parse("nonsense").is_err());
    }

    #[test]
    fn empty_means_loopback() {
        let allow = MetricsAllow::parse(" ").unwrap();
        assert!(allow.allows("127.0.0.1".parse().unwrap()));
        assert!(allow.allows("::1".parse().unwrap()));
        assert!(!allow.allows("10.0.0.1".parse().unwrap()));
    }
}
