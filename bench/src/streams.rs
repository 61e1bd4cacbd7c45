//! The progress stream against the real `server` binary in its own process: its resident memory
//! idle and with many open streams, the Redis connections it holds, publish → frame latency, and
//! the replay a reconnecting stream gets.

use crate::fixtures;
use crate::procs::{Env, Proc, connections_to, cpu_time, free_port, wait_healthy};
use crate::report::{Report, Samples, Verdict, mb_from_kib, ms};
use crate::sse::{HTTP2_STREAMS_PER_CONNECTION, Http2Connection, Protocol, SseStream};
use anyhow::{Context, bail};
use backend::db::DbPool;
use backend::redis::RedisClient;
use domain::ContainerId;
use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand};
use futures::{StreamExt, TryStreamExt};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Streams opened at once (the server's database pool has 16 connections).
const OPENING: usize = 64;

/// What the section measures.
#[derive(Clone, Debug)]
pub struct StreamParams {
    pub idle_streams: usize,
    pub streams_per_container: usize,
    /// Open streams for each latency row.
    pub latency_streams: Vec<usize>,
    /// Events published for each latency row; `None`: by the number of streams.
    pub latency_rounds: Option<i64>,
    pub replay_events: i64,
    pub replay_runs: usize,
}

/// The server under test and what every measurement needs to talk to it.
struct Target {
    server: Proc,
    addr: SocketAddr,
    cookie: String,
    db: DbPool,
    redis: RedisClient,
    node: domain::NodeId,
    redis_port: u16,
}

pub async fn run(report: &mut Report, env: &Env, params: &StreamParams) -> anyhow::Result<()> {
    eprintln!("==> server process: idle memory");
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let base = format!("http://{addr}");
    let mut server = start_server(env, addr).await?;
    let idle = server.settled_rss_kib(Duration::from_secs(15)).await?;
    report.add(
        "idle resident memory: server",
        "release binary `server serve`, after start-up and one /health request, VmRSS",
        mb_from_kib(idle),
        "<= 25 MB",
        Verdict::of(idle * 1024 <= 25_000_000),
    );

    let username = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let password = uuid::Uuid::new_v4().simple().to_string();
    fixtures::create_user(env, &username, &password).await?;
    let cookie = fixtures::login(&base, &username, &password).await?;
    let db = backend::db::pool(&env.database_url, 4)?;
    let node = fixtures::node(&db).await?;
    let mut target = Target {
        server,
        addr,
        cookie,
        db,
        redis: backend::redis::connect(&env.redis_url).await?,
        node,
        redis_port: env.redis_port()?,
    };

    for protocol in [
        Protocol::Http1,
        Protocol::Http1AfterRequest,
        Protocol::Http2,
    ] {
        if protocol != Protocol::Http1 {
            // A fresh process, so memory freed by the earlier streams is not reused and
            // counted as nothing.
            target.server.stop().await;
            target.server = start_server(env, addr).await?;
        }
        idle_streams(
            report,
            &mut target,
            params.idle_streams,
            params.streams_per_container,
            protocol,
        )
        .await?;
        if protocol == Protocol::Http1AfterRequest {
            // Its memory only: the server hands such a stream over to the same path as one on
            // a fresh connection, whose latency the HTTP/1.1 rows measure.
            continue;
        }
        for &streams in &params.latency_streams {
            latency(
                report,
                &mut target,
                streams,
                params.latency_rounds,
                protocol,
            )
            .await?;
        }
    }
    replay(
        report,
        &mut target,
        params.replay_events,
        params.replay_runs,
    )
    .await?;
    target.server.stop().await;
    Ok(())
}

/// Starts `server serve` on `addr` (HTTP/1.1 and h2c) and waits until it answers.
async fn start_server(env: &Env, addr: SocketAddr) -> anyhow::Result<Proc> {
    let mut command = env.command("server");
    command
        .arg("serve")
        .env("INFRAHAUS_LISTEN", addr.to_string())
        .env("INFRAHAUS_SITE_ROOT", &env.site_root);
    let mut server = Proc::spawn(env, "server", command)?;
    wait_healthy(
        &mut server,
        &format!("http://{addr}"),
        Duration::from_secs(60),
    )
    .await?;
    Ok(server)
}

fn progress_path(container: ContainerId) -> String {
    format!("/api/containers/{container}/progress")
}

impl Target {
    /// Opens one stream per entry of `containers`, a few at a time: each on its own connection
    /// (HTTP/1.1, fresh or after another request), or [`HTTP2_STREAMS_PER_CONNECTION`] to a
    /// connection (HTTP/2).
    async fn open_streams(
        &self,
        containers: &[ContainerId],
        protocol: Protocol,
    ) -> anyhow::Result<Vec<SseStream>> {
        let mut connections = Vec::new();
        if protocol == Protocol::Http2 {
            for _ in 0..containers.len().div_ceil(HTTP2_STREAMS_PER_CONNECTION) {
                connections.push(Http2Connection::connect(self.addr).await?);
            }
        }
        let connections = &connections;
        futures::stream::iter(containers.iter().enumerate().map(|(i, &id)| {
            let path = progress_path(id);
            async move {
                match protocol {
                    Protocol::Http1 => SseStream::open(self.addr, &path, &self.cookie, None).await,
                    Protocol::Http1AfterRequest => {
                        SseStream::open_after_request(self.addr, &path, &self.cookie).await
                    }
                    Protocol::Http2 => {
                        let connection = &connections[i / HTTP2_STREAMS_PER_CONNECTION];
                        SseStream::open_http2(connection, &path, &self.cookie, None).await
                    }
                }
            }
        }))
        .buffer_unordered(OPENING)
        .try_collect()
        .await
    }

    /// The server's connections as Redis lists them (`CLIENT LIST`, matched by local port).
    async fn redis_clients(&self) -> anyhow::Result<usize> {
        let ports = connections_to(self.server.pid()?, self.redis_port)?;
        let command = CustomCommand::new_static("CLIENT", ClusterHash::FirstKey, false);
        let list: String = self.redis.custom(command, vec!["LIST"]).await?;
        Ok(list
            .lines()
            .filter_map(|line| line.split(' ').find_map(|f| f.strip_prefix("addr=")))
            .filter_map(|addr| addr.rsplit(':').next()?.parse::<u16>().ok())
            .filter(|port| ports.contains(port))
            .count())
    }

    /// How many of `containers`' progress channels Redis has a subscriber on.
    async fn subscribed(&self, containers: &[ContainerId]) -> anyhow::Result<usize> {
        let channels: Vec<String> = containers
            .iter()
            .map(|&id| backend::events::channel(id))
            .collect();
        let reply: Vec<fred::types::Value> = self.redis.pubsub_numsub(channels).await?;
        Ok(reply
            .chunks(2)
            .filter(|pair| pair.get(1).and_then(|v| v.as_i64()).unwrap_or(0) > 0)
            .count())
    }

    /// Waits until Redis shows `expected` of `containers`' channels subscribed.
    async fn wait_for_channels(
        &self,
        containers: &[ContainerId],
        expected: usize,
        limit: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let now = self.subscribed(containers).await?;
            if now == expected {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("Redis shows {now} progress channels subscribed, expected {expected}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Resident memory and Redis connections with no stream, then with `count` idle streams,
/// `per_container` of them following each container.
async fn idle_streams(
    report: &mut Report,
    target: &mut Target,
    count: usize,
    per_container: usize,
    protocol: Protocol,
) -> anyhow::Result<()> {
    let label = protocol.label();
    eprintln!("==> server process: memory with {count} idle progress streams ({label})");
    let rss_before = target
        .server
        .settled_rss_kib(Duration::from_secs(15))
        .await?;
    let clients_before = target.redis_clients().await?;
    let containers =
        fixtures::containers(&target.db, target.node, count.div_ceil(per_container)).await?;
    let followed: Vec<ContainerId> = containers
        .iter()
        .flat_map(|&id| std::iter::repeat_n(id, per_container))
        .take(count)
        .collect();
    let started = Instant::now();
    let streams = target.open_streams(&followed, protocol).await?;
    let opening = started.elapsed();
    target
        .wait_for_channels(&containers, containers.len(), Duration::from_secs(30))
        .await
        .context("every open stream should have its channel subscribed")?;
    let rss_open = target
        .server
        .settled_rss_kib(Duration::from_secs(30))
        .await?;
    let clients_open = target.redis_clients().await?;
    drop(streams);
    target
        .wait_for_channels(&containers, 0, Duration::from_secs(60))
        .await
        .context("closed streams should release their channels")?;

    let per_stream = (rss_open.saturating_sub(rss_before) * 1024) as f64 / count as f64 / 1000.0;
    report.add(
        format!("server resident memory with idle progress streams ({label})"),
        format!(
            "{count} SSE streams ({label}) on {} containers (one Redis channel each), opened {OPENING} at a time in {:.1} s, VmRSS after settling",
            containers.len(),
            opening.as_secs_f64()
        ),
        format!(
            "0 streams {} / {count} streams {} ({per_stream:.1} kB per stream)",
            mb_from_kib(rss_before),
            mb_from_kib(rss_open)
        ),
        format!("<= 100 MB at {count} streams"),
        Verdict::of(rss_open * 1024 <= 100_000_000),
    );
    report.add(
        format!("Redis connections held by the server ({label})"),
        format!("CLIENT LIST entries from the server process, with 0 and {count} open streams"),
        format!("{clients_before} / {clients_open}"),
        "constant",
        Verdict::of(clients_before == clients_open && clients_before > 0),
    );
    Ok(())
}

/// Publish → frame latency with `count` streams following one container.
async fn latency(
    report: &mut Report,
    target: &mut Target,
    count: usize,
    rounds: Option<i64>,
    protocol: Protocol,
) -> anyhow::Result<()> {
    let label = protocol.label();
    eprintln!("==> publish -> SSE frame latency with {count} open streams ({label})");
    let rounds: i64 = rounds.unwrap_or(match count {
        0..=1 => 1000,
        2..=100 => 200,
        _ => 100,
    });
    let warmup: i64 = 5;
    let container = fixtures::containers(&target.db, target.node, 1).await?[0];
    let streams = target
        .open_streams(&vec![container; count], protocol)
        .await?;
    // Each reader keeps its own arrival times and counts the event as arrived; the one that
    // completes the count wakes the publisher, once per event (the client's share of the two
    // cores stays small).
    let last = warmup + rounds;
    let arrivals = std::sync::Arc::new(Arrivals {
        count: std::sync::atomic::AtomicUsize::new(0),
        all_arrived: tokio::sync::Notify::new(),
        expected: count,
    });
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            let arrivals = arrivals.clone();
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(usize::try_from(last).unwrap_or(0));
                for expected in 1..=last {
                    let id = stream
                        .next_id()
                        .await?
                        .context("a stream ended before the last event")?;
                    times.push(Instant::now());
                    if id != expected {
                        bail!("a stream received event {id} while {expected} was expected");
                    }
                    arrivals.arrived();
                }
                // Kept open until every stream has the last event: closing it now would add
                // this stream's teardown to the server's work while it still sends that event
                // to the others.
                anyhow::Ok((times, stream))
            })
        })
        .collect();

    let channel = backend::events::channel(container);
    let mut published_at = Vec::with_capacity(usize::try_from(last).unwrap_or(0));
    let mut server_cpu = Duration::ZERO;
    let mut client_cpu = Duration::ZERO;
    let mut fanout_before = FanoutBuckets::default();
    for seq in 1..=last {
        if seq == warmup + 1 {
            fanout_before = FanoutBuckets::scrape(target.addr).await?;
        }
        let event = fixtures::log_event(seq, format!("bench line {seq}"));
        let batch = [event];
        // Stored first, as the worker's sink does, so a stream that resyncs finds it.
        fixtures::store(&target.db, container, &batch).await?;
        let cpu_before = cpu_time(target.server.pid()?)?;
        let client_cpu_before = cpu_time(std::process::id())?;
        arrivals.count.store(0, std::sync::atomic::Ordering::SeqCst);
        let all_arrived = arrivals.all_arrived.notified();
        let published = Instant::now();
        published_at.push(published);
        let receivers: i64 = target
            .redis
            .publish(channel.as_str(), backend::events::encode(&batch))
            .await?;
        if receivers < 1 {
            bail!("nobody is subscribed to {channel}");
        }
        if tokio::time::timeout(Duration::from_secs(10), all_arrived)
            .await
            .is_err()
        {
            if let Some(failed) = readers.into_iter().find(|reader| reader.is_finished()) {
                failed.await??;
            }
            bail!("event {seq} did not reach every stream within 10 s");
        }
        if seq > warmup {
            server_cpu += cpu_time(target.server.pid()?)?.saturating_sub(cpu_before);
            client_cpu += cpu_time(std::process::id())?.saturating_sub(client_cpu_before);
        }
    }
    let mut samples = Vec::with_capacity(count * usize::try_from(rounds).unwrap_or(0));
    let mut finished_streams = Vec::with_capacity(count);
    // Per timed event, when its last frame arrived.
    let mut round_ends = vec![Duration::ZERO; usize::try_from(rounds)?];
    let untimed = usize::try_from(warmup)?;
    for reader in readers {
        let (times, stream) = reader.await??;
        finished_streams.push(stream);
        for (index, at) in times.into_iter().enumerate().skip(untimed) {
            let latency = at - published_at[index];
            samples.push(latency);
            let round_end = &mut round_ends[index - untimed];
            *round_end = (*round_end).max(latency);
        }
    }
    let fanout = FanoutBuckets::scrape(target.addr)
        .await?
        .since(&fanout_before);
    drop(finished_streams);
    target
        .wait_for_channels(&[container], 0, Duration::from_secs(30))
        .await
        .context("closed streams should release their channel")?;

    let samples = Samples::new(samples);
    let round_ends = Samples::new(round_ends);
    let p99 = samples.percentile(99.0);
    report.add(
        format!("publish -> SSE frame latency, {count} stream(s) ({label})"),
        format!(
            "{count} open stream(s) ({label}) on one container, {rounds} events published one at a time (PUBLISH as the worker's sink does), {} frames timed in the client, which shares the machine's {} cores with the server",
            samples.len(),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
        format!(
            "p50 {} / p99 {} (CPU per frame: server {:.1} µs, bench client {:.1} µs; last frame of an event: median {}, slowest {}, after 10 ms in {} of {} events)",
            ms(samples.percentile(50.0)),
            ms(p99),
            server_cpu.as_secs_f64() * 1e6 / samples.len().max(1) as f64,
            client_cpu.as_secs_f64() * 1e6 / samples.len().max(1) as f64,
            ms(round_ends.percentile(50.0)),
            ms(round_ends.max()),
            round_ends.count_over(Duration::from_millis(10)),
            round_ends.len()
        ),
        "p99 <= 10 ms",
        Verdict::of(p99 <= Duration::from_millis(10)),
    );
    let within_10_ms = fanout.share_within(0.01);
    report.add(
        format!("server's share of publish -> frame, {count} stream(s) ({label})"),
        format!(
            "the same rounds, from the server's `{}` histogram: from a batch reaching the server to each stream handing it to its connection ({} observations)",
            backend::metrics::FANOUT_METRIC,
            fanout.count
        ),
        format!(
            "{:.2} % within 10 ms; p99 at most {}",
            within_10_ms * 100.0,
            fanout.p99_bound()
        ),
        "p99 <= 10 ms",
        Verdict::of(fanout.count > 0.0 && within_10_ms >= 0.99),
    );
    Ok(())
}

/// How many streams have the current event, and the wake-up for the publisher when all do.
struct Arrivals {
    count: std::sync::atomic::AtomicUsize,
    all_arrived: tokio::sync::Notify,
    expected: usize,
}

impl Arrivals {
    fn arrived(&self) {
        if self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == self.expected {
            self.all_arrived.notify_one();
        }
    }
}

/// The server's fan-out histogram (`/metrics`): cumulative counts by bucket bound, and the total.
#[derive(Debug, Default)]
struct FanoutBuckets {
    /// `(upper bound in seconds, observations at or below it)`, in the order served.
    buckets: Vec<(f64, f64)>,
    count: f64,
}

impl FanoutBuckets {
    /// The histogram as the server's `/metrics` shows it now (empty before its first sample).
    async fn scrape(addr: SocketAddr) -> anyhow::Result<FanoutBuckets> {
        let text = reqwest::Client::new()
            .get(format!("http://{addr}/metrics"))
            .send()
            .await?
            .error_for_status()
            .context("the server's /metrics")?
            .text()
            .await?;
        let bucket_prefix = format!("{}_bucket{{le=\"", backend::metrics::FANOUT_METRIC);
        let count_prefix = format!("{}_count ", backend::metrics::FANOUT_METRIC);
        let mut scraped = FanoutBuckets::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix(&bucket_prefix) {
                let Some((bound, value)) = rest.split_once("\"} ") else {
                    continue;
                };
                let bound = if bound == "+Inf" {
                    f64::INFINITY
                } else {
                    bound.parse()?
                };
                scraped.buckets.push((bound, value.trim().parse()?));
            } else if let Some(value) = line.strip_prefix(&count_prefix) {
                scraped.count = value.trim().parse()?;
            }
        }
        Ok(scraped)
    }

    /// What was observed after `earlier`.
    fn since(&self, earlier: &FanoutBuckets) -> FanoutBuckets {
        let before = |bound: f64| {
            earlier
                .buckets
                .iter()
                .find(|(b, _)| *b == bound)
                .map_or(0.0, |(_, v)| *v)
        };
        FanoutBuckets {
            buckets: self
                .buckets
                .iter()
                .map(|&(bound, value)| (bound, value - before(bound)))
                .collect(),
            count: self.count - earlier.count,
        }
    }

    /// The share of observations at or below the bucket bound `seconds`.
    fn share_within(&self, seconds: f64) -> f64 {
        let within = self
            .buckets
            .iter()
            .find(|(bound, _)| (*bound - seconds).abs() < 1e-9)
            .map_or(0.0, |(_, v)| *v);
        if self.count > 0.0 {
            within / self.count
        } else {
            0.0
        }
    }

    /// The smallest bucket bound that 99 % of the observations are at or below.
    fn p99_bound(&self) -> String {
        self.buckets
            .iter()
            .find(|(_, value)| self.count > 0.0 && *value >= 0.99 * self.count)
            .map_or_else(
                || "unknown".to_owned(),
                |(bound, _)| {
                    if bound.is_infinite() {
                        "over the largest bucket".to_owned()
                    } else {
                        ms(Duration::from_secs_f64(*bound))
                    }
                },
            )
    }
}

/// Time from connecting to the last replayed frame, for a stream resuming at `Last-Event-ID: 0`.
async fn replay(
    report: &mut Report,
    target: &mut Target,
    events: i64,
    runs: usize,
) -> anyhow::Result<()> {
    eprintln!("==> replay of {events} stored events");
    let container = fixtures::containers(&target.db, target.node, 1).await?[0];
    let stored: Vec<_> = (1..=events)
        .map(|seq| {
            fixtures::log_event(
                seq,
                format!("line {seq}: compiling module {seq} of the application (release build)"),
            )
        })
        .collect();
    fixtures::store(&target.db, container, &stored).await?;
    let path = progress_path(container);
    let warmup = 2;
    let mut samples = Vec::with_capacity(runs);
    let mut server_cpu = Duration::ZERO;
    for run in 0..warmup + runs {
        let cpu_before = cpu_time(target.server.pid()?)?;
        let started = Instant::now();
        let mut stream = SseStream::open(target.addr, &path, &target.cookie, Some(0)).await?;
        for expected in 1..=events {
            match stream.next_id().await? {
                Some(id) if id == expected => {}
                Some(id) => bail!("replay sent event {id} where {expected} was expected"),
                None => bail!("replay ended after {} events", expected - 1),
            }
        }
        if run >= warmup {
            samples.push(started.elapsed());
            server_cpu += cpu_time(target.server.pid()?)?.saturating_sub(cpu_before);
        }
    }
    target.server.check_running()?;
    let samples = Samples::new(samples);
    let p50 = samples.percentile(50.0);
    report.add(
        "replay for a reconnecting stream",
        format!(
            "{events} stored events, reconnect with Last-Event-ID: 0, {} reconnects, connect to last frame received",
            samples.len()
        ),
        format!(
            "p50 {} / max {} (server CPU {} per replay)",
            ms(p50),
            ms(samples.max()),
            ms(server_cpu / u32::try_from(samples.len()).unwrap_or(1).max(1))
        ),
        "<= 50 ms",
        Verdict::of(p50 <= Duration::from_millis(50)),
    );
    Ok(())
}
