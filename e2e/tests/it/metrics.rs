//! The operations endpoints of the server and the worker: both `/metrics` after a creation, read
//! as Prometheus text, and both `/ready` with PostgreSQL or Redis taken away (through a
//! [`testkit::TcpGate`], so the shared servers keep running for the other tests).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use backend::models::ContainerRow;
use backend::models::event::EventRow;
use backend::queue::QueueKeys;
use domain::ContainerId;
use domain::container::Lifecycle;
use e2e::in_process::RealWorker;
use serde_json::json;
use testkit::TcpGate;
use testkit::server::TestApp;
use tokio::net::TcpListener;
use worker::metrics::Probe;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_endpoints_count_a_creation() {
    let app = TestApp::start().await;
    let worker_url = spawn_worker_listener(Probe {
        db: app.ctx.db.clone(),
        redis: app.ctx.redis.clone(),
        queue: app.ctx.queue.keys().clone(),
    })
    .await;
    let server_url = app.url.clone();

    let worker = RealWorker::start(&app).await;
    let id = worker
        .create(
            &app,
            &testkit::fixtures::draft(worker.node, 130, "metrics-1"),
        )
        .await;
    let lifecycle = finished(&app, id).await;
    assert_eq!(
        lifecycle,
        Lifecycle::Ready,
        "{}",
        transcript(&app, id).await
    );
    drop(worker);

    // Through the server: one failed login, one that works, the progress stream to its end.
    let user = app.user("correct horse battery").await;
    let client = app.client();
    let login = |password: &'static str| {
        client
            .post(format!("{server_url}/api/login"))
            .json(&json!({ "username": user, "password": password }))
            .send()
    };
    assert_eq!(login("wrong").await.unwrap().status(), 401);
    assert_eq!(login("correct horse battery").await.unwrap().status(), 200);
    let stream = client
        .get(format!("{server_url}/api/containers/{id}/progress"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let frames = stream.text().await.unwrap();
    assert!(frames.contains("event: progress"), "{frames}");

    let server_text = get(&format!("{server_url}/metrics"), None).await.1;
    let worker_text = get(&format!("{worker_url}/metrics"), None).await.1;
    let out = testkit::output_dir();
    std::fs::write(out.join("metrics-server.txt"), &server_text).unwrap();
    std::fs::write(out.join("metrics-worker.txt"), &worker_text).unwrap();
    let server = Scrape::parse(&server_text);
    server.assert_at_least(
        "infrahaus_server_fn_requests_total",
        &[("name", "login"), ("status", "401")],
        1.0,
    );
    server.assert_at_least(
        "infrahaus_server_fn_requests_total",
        &[("name", "login"), ("status", "200")],
        1.0,
    );
    server.assert_at_least("infrahaus_login_failures_total", &[], 1.0);
    server.assert_at_least("infrahaus_progress_events_sent_total", &[], 5.0);
    server.assert_at_least("infrahaus_progress_streams_open", &[], 0.0);
    server.assert_histogram(
        "infrahaus_http_request_duration_seconds",
        &[("route", "api/login")],
    );
    server.assert_histogram(
        "infrahaus_http_request_duration_seconds",
        &[("route", "progress")],
    );

    let worker = Scrape::parse(&worker_text);
    worker.assert_at_least("infrahaus_jobs_started_total", &[], 1.0);
    worker.assert_at_least("infrahaus_jobs_finished_total", &[("outcome", "done")], 1.0);
    worker.assert_at_least(
        "infrahaus_containers_finished_total",
        &[("result", "ready")],
        1.0,
    );
    for phase in ["create", "start", "deploy", "sync", "finalize"] {
        worker.assert_histogram("infrahaus_phase_duration_seconds", &[("phase", phase)]);
    }
    worker.assert_histogram("infrahaus_job_duration_seconds", &[("outcome", "done")]);
    worker.assert_histogram(
        "infrahaus_pve_request_duration_seconds",
        &[("endpoint", "/nodes/{node}/lxc"), ("method", "POST")],
    );
    worker.assert_at_least("infrahaus_queue_depth", &[], 0.0);
    worker.assert_at_least("infrahaus_queue_pending", &[], 0.0);

    // Outside INFRAHAUS_METRICS_ALLOW (loopback by default): refused with the error envelope.
    let (status, body) = get(&format!("{server_url}/metrics"), Some("198.18.7.7")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["error"],
        "forbidden"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_names_what_is_away() {
    let database_url = testkit::migrated_database().await;
    let pg_gate = TcpGate::start(authority(&database_url).await).await;
    let redis_gate = TcpGate::start(authority(&testkit::redis_url()).await).await;
    let db = backend::db::pool(&through(&database_url, pg_gate.address()), 4).unwrap();
    let redis = backend::redis::connect(&through(&testkit::redis_url(), redis_gate.address()))
        .await
        .unwrap();
    let app = TestApp::start_with(
        db.clone(),
        redis.clone(),
        database_url.clone(),
        chrono::Duration::hours(1),
    )
    .await;
    let server = app.url.clone();
    let worker = spawn_worker_listener(Probe {
        db,
        redis,
        queue: QueueKeys::namespaced(&testkit::unique("wq")),
    })
    .await;
    let both = [format!("{server}/ready"), format!("{worker}/ready")];

    for url in &both {
        assert_eq!(get(url, None).await, (200, "ready".to_owned()), "{url}");
    }
    for (gate, away) in [(&pg_gate, "PostgreSQL"), (&redis_gate, "Redis")] {
        gate.shut();
        for url in &both {
            let started = std::time::Instant::now();
            let (status, body) = get(url, None).await;
            assert_eq!(status, 503, "{url}: {body}");
            let envelope: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(envelope["error"], "unavailable", "{url}: {body}");
            assert_eq!(
                envelope["message"],
                format!("{away} is not answering."),
                "{url}: {body}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{url} took {:?}",
                started.elapsed()
            );
        }
        gate.open().await;
        for url in &both {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
            while get(url, None).await.0 != 200 {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{url} not ready again after {away} came back"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The worker's listener on a free loopback port; its base URL.
async fn spawn_worker_listener(probe: Probe) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(worker::metrics::serve(
        listener,
        probe,
        std::future::pending(),
    ));
    url
}

/// Waits up to two minutes for the container to leave `creating`; its lifecycle then.
async fn finished(app: &TestApp, id: ContainerId) -> Lifecycle {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let mut conn = app.ctx.db.get().await.unwrap();
        let row = ContainerRow::find(&mut conn, id).await.unwrap();
        if row.lifecycle != Lifecycle::Creating || tokio::time::Instant::now() > deadline {
            return row.lifecycle;
        }
        drop(conn);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The container's progress events, one per line, for a failure message.
async fn transcript(app: &TestApp, id: ContainerId) -> String {
    let mut conn = app.ctx.db.get().await.unwrap();
    let events = EventRow::list_after(&mut conn, id, 0, 10_000)
        .await
        .unwrap();
    events
        .iter()
        .map(|e| format!("{:?} {}", e.kind, e.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `GET url`, from `forwarded_for` when given; status and body.
async fn get(url: &str, forwarded_for: Option<&str>) -> (u16, String) {
    pve_client::tls::install_default_provider();
    let mut request = reqwest::Client::new().get(url);
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// `host:port` of a `scheme://…@host:port/…` URL, resolved.
async fn authority(url: &str) -> SocketAddr {
    let rest = url.split_once("://").unwrap().1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host_port = rest.split('/').next().unwrap();
    tokio::net::lookup_host(host_port)
        .await
        .unwrap()
        .next()
        .unwrap()
}

/// `url` with its `host:port` replaced by `gate`.
fn through(url: &str, gate: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, rest) = match rest.rsplit_once('@') {
        Some((c, r)) => (format!("{c}@"), r),
        None => (String::new(), rest),
    };
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    format!("{scheme}://{credentials}{gate}{path}")
}

/// One sample: metric name, labels, value.
type Sample = (String, HashMap<String, String>, f64);

/// A scrape read as Prometheus text exposition (format 0.0.4): every sample belongs to a family
/// declared by `# TYPE`, every histogram has `_bucket` lines with an `le` label ending in
/// `+Inf`, cumulative counts, and `_sum` and `_count`.
struct Scrape {
    types: HashMap<String, String>,
    samples: Vec<Sample>,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut types = HashMap::new();
        let mut samples = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(comment) = line.strip_prefix('#') {
                let mut words = comment.split_whitespace();
                if words.next() == Some("TYPE") {
                    let name = words.next().expect("a name after # TYPE");
                    let kind = words.next().expect("a type after the name");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                        "unknown type in {line:?}"
                    );
                    types.insert(name.to_owned(), kind.to_owned());
                }
                continue;
            }
            samples.push(parse_sample(line));
        }
        for (name, _, _) in &samples {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix)
                        .filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
                })
                .unwrap_or(name);
            assert!(types.contains_key(family), "{name} has no # TYPE line");
        }
        Scrape { types, samples }
    }

    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// The counter or gauge summed over the series that have `labels` is at least `min`.
    fn assert_at_least(&self, name: &str, labels: &[(&str, &str)], min: f64) {
        assert!(
            matches!(
                self.types.get(name).map(String::as_str),
                Some("counter" | "gauge")
            ),
            "{name} is not a counter or gauge: {:?}",
            self.types.get(name)
        );
        let series: Vec<_> = self.matching(name, labels).collect();
        assert!(!series.is_empty(), "no {name} with {labels:?}");
        let total: f64 = series.iter().map(|(_, _, v)| v).sum();
        assert!(
            total >= min,
            "{name} {labels:?} is {total}, expected at least {min}"
        );
    }

    /// One histogram series with `labels`: cumulative buckets up to `+Inf`, which equals
    /// `_count`, and at least one observation.
    fn assert_histogram(&self, name: &str, labels: &[(&str, &str)]) {
        assert_eq!(
            self.types.get(name).map(String::as_str),
            Some("histogram"),
            "{name}"
        );
        let bucket = format!("{name}_bucket");
        let buckets: Vec<_> = self.matching(&bucket, labels).collect();
        assert!(buckets.len() > 2, "no buckets for {name} {labels:?}");
        let mut bounds: Vec<(f64, f64)> = buckets
            .iter()
            .map(|(_, l, v)| {
                let le = l.get("le").expect("a bucket has le");
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                (bound, *v)
            })
            .collect();
        bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(
            bounds.windows(2).all(|w| w[0].1 <= w[1].1),
            "{name}: buckets not cumulative: {bounds:?}"
        );
        let (last, inf) = *bounds.last().unwrap();
        assert!(last.is_infinite(), "{name}: no +Inf bucket");
        let count_name = format!("{name}_count");
        let counts: Vec<_> = self.matching(&count_name, labels).collect();
        assert_eq!(counts.len(), 1, "{name} {labels:?}: one _count series");
        assert_eq!(counts[0].2, inf, "{name}: +Inf bucket equals _count");
        assert!(inf >= 1.0, "{name} {labels:?} observed nothing");
        let sum_name = format!("{name}_sum");
        assert_eq!(self.matching(&sum_name, labels).count(), 1, "{name}: _sum");
    }
}

/// `name{label="value",…} value [timestamp]`, with `\\`, `\"` and `\n` escapes in values.
fn parse_sample(line: &str) -> Sample {
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .unwrap_or_else(|| panic!("no value in {line:?}"));
    let name = &line[..name_end];
    assert!(
        name.chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_alphabetic()
                || c == '_'
                || c == ':'
                || (i > 0 && c.is_ascii_digit())),
        "bad metric name in {line:?}"
    );
    let mut labels = HashMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '}' {
                end = Some(i);
                break;
            }
            if c == ',' || c.is_whitespace() {
                continue;
            }
            let key_start = i;
            let mut key_end = i;
            for (j, c) in chars.by_ref() {
                if c == '=' {
                    key_end = j;
                    break;
                }
            }
            let key = inner[key_start..key_end].trim().to_owned();
            assert_eq!(
                chars.next().map(|(_, c)| c),
                Some('"'),
                "label value not quoted in {line:?}"
            );
            let mut value = String::new();
            loop {
                match chars.next().map(|(_, c)| c) {
                    Some('"') => break,
                    Some('\\') => match chars.next().map(|(_, c)| c) {
                        Some('n') => value.push('\n'),
                        Some(c @ ('\\' | '"')) => value.push(c),
                        other => panic!("bad escape {other:?} in {line:?}"),
                    },
                    Some(c) => value.push(c),
                    None => panic!("unterminated label value in {line:?}"),
                }
            }
            labels.insert(key, value);
        }
        let end = end.unwrap_or_else(|| panic!("no closing brace in {line:?}"));
        rest = &inner[end + 1..];
    }
    let mut fields = rest.split_whitespace();
    let value = fields
        .next()
        .unwrap_or_else(|| panic!("no value in {line:?}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}")),
    };
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .unwrap_or_else(|_| panic!("bad timestamp in {line:?}"));
    }
    assert!(fields.next().is_none(), "trailing text in {line:?}");
    (name.to_owned(), labels, value)
}
