//! The progress stream over real HTTP, with events in a real PostgreSQL and live ones through a
//! real Redis.

use backend::events::{self, EventSink, SinkConfig};
use backend::models::event::EventRow;
use domain::ContainerId;
use domain::container::{Lifecycle, Phase};
use domain::event::{EventKind, LogStream, ProgressEvent};
use fred::prelude::*;
use std::time::Duration;
use testkit::fixtures::progress_event as event;
use testkit::server::{TestApp, eventually};

/// One SSE event as the client received it.
#[derive(Debug)]
struct Frame {
    id: String,
    name: String,
    event: ProgressEvent,
}

/// Reads SSE frames from a streaming response.
struct SseClient {
    response: reqwest::Response,
    buffer: String,
}

impl SseClient {
    /// The next event, or `None` when the server ended the stream; fails after 20 s.
    async fn next(&mut self) -> Option<Frame> {
        tokio::time::timeout(Duration::from_secs(20), self.read())
            .await
            .expect("an event or the end of the stream")
    }

    async fn read(&mut self) -> Option<Frame> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut name, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = v.into();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        name = v.into();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                let event = serde_json::from_str(&data).expect("data is a ProgressEvent");
                return Some(Frame { id, name, event });
            }
            let chunk = self
                .response
                .chunk()
                .await
                .expect("the stream stays readable")?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next piece of the body as it arrived (an event, a comment), within `wait`.
    async fn next_chunk(&mut self, wait: Duration) -> String {
        assert!(self.buffer.is_empty(), "a whole frame was read before");
        let chunk = tokio::time::timeout(wait, self.response.chunk())
            .await
            .expect("a chunk in time")
            .expect("the stream stays readable")
            .expect("the stream stays open");
        String::from_utf8(chunk.to_vec()).unwrap()
    }

    /// Every remaining event until the server ends the stream.
    async fn rest(&mut self) -> Vec<ProgressEvent> {
        let mut events = Vec::new();
        while let Some(frame) = self.next().await {
            events.push(frame.event);
        }
        events
    }
}

fn url(app: &TestApp, container: ContainerId) -> String {
    format!("{}/api/containers/{container}/progress", app.url)
}

async fn open(app: &TestApp, client: &reqwest::Client, container: ContainerId) -> SseClient {
    open_request(client.get(url(app, container))).await
}

async fn open_request(request: reqwest::RequestBuilder) -> SseClient {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    SseClient {
        response,
        buffer: String::new(),
    }
}

/// Stores events with the given seqs (the last one `last_kind`, the others logs).
async fn store(
    app: &TestApp,
    container: ContainerId,
    seqs: std::ops::RangeInclusive<i64>,
    last_kind: EventKind,
) -> Vec<ProgressEvent> {
    let last = *seqs.end();
    let batch: Vec<ProgressEvent> = seqs
        .map(|seq| {
            event(
                seq,
                if seq == last {
                    last_kind
                } else {
                    EventKind::Log
                },
            )
        })
        .collect();
    let mut conn = app.ctx.db.get().await.unwrap();
    EventRow::insert_batch(&mut conn, container, &batch)
        .await
        .unwrap();
    batch
}

fn seqs(events: &[ProgressEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

#[tokio::test]
async fn a_session_is_required() {
    let app = TestApp::start().await;
    let container = app.container(Lifecycle::Creating).await;
    let response = app.client().get(url(&app, container)).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(app.subscribers(container).await, 0);
}

#[tokio::test]
async fn malformed_and_unknown_ids_and_cursors_are_refused() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let bad = client
        .get(format!("{}/api/containers/not-a-uuid/progress", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert!(body["fields"]["id"].is_string(), "{body}");
    let unknown = ContainerId::new_random();
    let missing = client.get(url(&app, unknown)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(app.subscribers(unknown).await, 0);

    let container = app.container(Lifecycle::Creating).await;
    for request in [
        client.get(format!("{}?after=soon", url(&app, container))),
        client
            .get(url(&app, container))
            .header("last-event-id", "-1"),
    ] {
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), 422);
        let body: serde_json::Value = refused.json().await.unwrap();
        assert!(body["fields"]["after"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn events_use_the_documented_wire_format_and_headers() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    let stored = store(&app, container, 1..=2, EventKind::Log).await;

    let mut stream = open(&app, &client, container).await;
    let headers = stream.response.headers();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache, no-transform");
    assert_eq!(headers["x-accel-buffering"], "no");
    for expected in &stored {
        let frame = stream.next().await.unwrap();
        assert_eq!(frame.id, expected.seq.to_string());
        assert_eq!(frame.name, "progress");
        assert_eq!(&frame.event, expected);
    }
}

#[tokio::test]
async fn replay_then_live_while_a_worker_writes_loses_and_repeats_nothing() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    let config = SinkConfig {
        batch_lines: 25,
        ..SinkConfig::default()
    };
    let sink = EventSink::open(app.ctx.db.clone(), app.ctx.redis.clone(), container, config)
        .await
        .unwrap();
    const LINES: usize = 4000;
    let worker = tokio::spawn(async move {
        sink.step(Phase::Sync, 60, "syncing").await.unwrap();
        for n in 0..LINES {
            sink.log(LogStream::Stdout, &format!("line {n}"))
                .await
                .unwrap();
            if n % 100 == 0 {
                tokio::task::yield_now().await;
            }
        }
        sink.complete("ready", &serde_json::json!({}))
            .await
            .unwrap();
    });
    // Connect while the worker is writing: part of the events is replayed, the rest is live.
    eventually("the worker has written some events", || async {
        let mut conn = app.ctx.db.get().await.unwrap();
        EventRow::count(&mut conn, container).await.unwrap() >= 600
    })
    .await;
    let mut stream = open(&app, &client, container).await;
    let received = stream.rest().await;
    worker.await.unwrap();

    let total = i64::try_from(LINES).unwrap() + 2;
    assert_eq!(seqs(&received), (1..=total).collect::<Vec<_>>());
    assert_eq!(received.last().unwrap().kind, EventKind::Complete);
}

#[tokio::test]
async fn live_duplicates_are_dropped_and_gaps_are_read_from_the_table() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    store(&app, container, 1..=5, EventKind::Log).await;

    let mut stream = open(&app, &client, container).await;
    assert_eq!(
        app.subscribers(container).await,
        1,
        "subscribed before replying"
    );
    for seq in 1..=5 {
        assert_eq!(stream.next().await.unwrap().event.seq, seq);
    }
    // A message overlapping what was replayed: only 6 is new.
    let six = store(&app, container, 6..=6, EventKind::Log).await;
    let mut overlap: Vec<ProgressEvent> = (3..=5).map(|s| event(s, EventKind::Log)).collect();
    overlap.extend(six);
    app.publish(container, &overlap).await;
    assert_eq!(stream.next().await.unwrap().event.seq, 6);

    // 7 and 8 were stored but their message was lost: 9's message brings them from the table.
    let later = store(&app, container, 7..=9, EventKind::Log).await;
    app.publish(container, &later[2..]).await;
    for seq in 7..=9 {
        assert_eq!(stream.next().await.unwrap().event.seq, seq);
    }

    // The terminal event ends the stream, even with more in its message.
    let mut end = store(&app, container, 10..=10, EventKind::Complete).await;
    end.push(event(11, EventKind::Log));
    app.publish(container, &end).await;
    assert_eq!(seqs(&stream.rest().await), vec![10]);
}

#[tokio::test]
async fn last_event_id_and_after_resume_where_the_client_was() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Ready).await;
    store(&app, container, 1..=6, EventKind::Complete).await;

    let mut by_header = open_request(
        client
            .get(url(&app, container))
            .header("last-event-id", "3"),
    )
    .await;
    assert_eq!(seqs(&by_header.rest().await), vec![4, 5, 6]);

    let mut by_query = open_request(client.get(format!("{}?after=4", url(&app, container)))).await;
    assert_eq!(seqs(&by_query.rest().await), vec![5, 6]);

    // EventSource sends no header before its first event; an empty one counts as absent.
    let empty_header = client
        .get(format!("{}?after=5", url(&app, container)))
        .header("last-event-id", "");
    assert_eq!(
        seqs(&open_request(empty_header).await.rest().await),
        vec![6]
    );

    // The header wins: it is what EventSource sends when it reconnects.
    let both = client
        .get(format!("{}?after=1", url(&app, container)))
        .header("last-event-id", "6")
        .send()
        .await
        .unwrap();
    assert_eq!(
        both.status(),
        204,
        "nothing after the terminal event: stop reconnecting"
    );
}

#[tokio::test]
async fn a_finished_container_gets_its_history_then_the_stream_ends() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;

    let ready = app.container(Lifecycle::Ready).await;
    store(&app, ready, 1..=5, EventKind::Complete).await;
    let mut stream = open(&app, &client, ready).await;
    let history = stream.rest().await;
    assert_eq!(seqs(&history), vec![1, 2, 3, 4, 5]);
    assert_eq!(history[4].kind, EventKind::Complete);
    assert_eq!(
        app.subscribers(ready).await,
        0,
        "a finished container needs no subscription"
    );

    let failed = app.container(Lifecycle::Error).await;
    store(&app, failed, 1..=2, EventKind::Error).await;
    assert_eq!(
        seqs(&open(&app, &client, failed).await.rest().await),
        vec![1, 2]
    );

    // Still marked creating, but its newest event is terminal: nothing more will come.
    let just_done = app.container(Lifecycle::Creating).await;
    store(&app, just_done, 1..=3, EventKind::Complete).await;
    assert_eq!(
        seqs(&open(&app, &client, just_done).await.rest().await),
        vec![1, 2, 3]
    );

    let silent = app.container(Lifecycle::Error).await;
    let response = client.get(url(&app, silent)).send().await.unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn one_redis_subscriber_serves_every_stream() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let before = app.redis_connections().await;
    assert_eq!(before, 2, "the shared client and the hub's subscriber");

    let mut containers = Vec::new();
    for _ in 0..25 {
        containers.push(app.container(Lifecycle::Creating).await);
    }
    let mut streams = Vec::new();
    for container in &containers {
        for _ in 0..2 {
            streams.push(open(&app, &client, *container).await);
        }
    }
    assert_eq!(streams.len(), 50);
    assert_eq!(app.redis_connections().await, before);
    for container in &containers {
        assert_eq!(app.subscribers(*container).await, 1);
    }
    assert_eq!(app.ctx.progress.channel_count(), 25);

    // Both streams of a container get its live events.
    app.publish(containers[0], &[event(1, EventKind::Log)])
        .await;
    assert_eq!(streams[0].next().await.unwrap().event.seq, 1);
    assert_eq!(streams[1].next().await.unwrap().event.seq, 1);

    drop(streams);
    for container in &containers {
        eventually("every channel is unsubscribed", || async {
            app.subscribers(*container).await == 0
        })
        .await;
    }
    eventually("the hub forgets the channels", || async {
        app.ctx.progress.channel_count() == 0
    })
    .await;
    assert_eq!(app.redis_connections().await, before);
}

#[tokio::test]
async fn a_client_that_goes_away_frees_its_subscription() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    let first = open(&app, &client, container).await;
    let second = open(&app, &client, container).await;
    assert_eq!(app.subscribers(container).await, 1);
    assert_eq!(app.ctx.progress.stream_count(container), 2);
    assert_eq!(app.ctx.progress.session_watch_count(), 2);

    drop(first);
    eventually("the server notices the first client left", || async {
        app.ctx.progress.stream_count(container) == 1
    })
    .await;
    assert_eq!(app.ctx.progress.session_watch_count(), 1);
    // The other stream still holds the channel.
    app.publish(container, &[event(1, EventKind::Log)]).await;
    let mut second = second;
    assert_eq!(second.next().await.unwrap().event.seq, 1);
    assert_eq!(app.subscribers(container).await, 1);

    drop(second);
    eventually("the channel is unsubscribed", || async {
        app.subscribers(container).await == 0
    })
    .await;
    assert_eq!(app.ctx.progress.channel_count(), 0);
    assert_eq!(app.ctx.progress.session_watch_count(), 0);
}

#[tokio::test]
async fn events_stored_while_the_subscriber_reconnects_still_arrive() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    // The response is sent after the stream has read the (empty) table: it is live now.
    let mut stream = open(&app, &client, container).await;

    // Stored while the subscriber is cut off, so its message never reaches this server.
    store(&app, container, 1..=2, EventKind::Log).await;
    app.kill_progress_subscriber().await;
    assert_eq!(stream.next().await.unwrap().event.seq, 1);
    assert_eq!(stream.next().await.unwrap().event.seq, 2);

    eventually("the channel is subscribed again", || async {
        app.subscribers(container).await == 1
    })
    .await;
    let end = store(&app, container, 3..=3, EventKind::Complete).await;
    app.publish(container, &end).await;
    assert_eq!(seqs(&stream.rest().await), vec![3]);
    assert_eq!(app.redis_connections().await, 2);
}

/// Logs `username` in (password as [`TestApp::logged_in`] sets it) with a new client: a session
/// of its own.
async fn log_in(app: &TestApp, username: &str) -> reqwest::Client {
    let client = app.client();
    let (status, body) = app
        .call(
            &client,
            "/api/login",
            serde_json::json!({"username": username, "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(status, 200, "login failed: {body}");
    client
}

/// Waits up to 5 s for the server to end the stream, sending no more events.
async fn ends_soon(stream: &mut SseClient, what: &str) {
    let rest = tokio::time::timeout(Duration::from_secs(5), stream.rest())
        .await
        .unwrap_or_else(|_| panic!("{what}: the stream is still open after 5 s"));
    assert!(rest.is_empty(), "{what}: no event after the end");
}

/// A stream is still open: it gets a published event.
async fn still_open(app: &TestApp, stream: &mut SseClient, container: ContainerId, seq: i64) {
    let batch = store(app, container, seq..=seq, EventKind::Log).await;
    app.publish(container, &batch).await;
    assert_eq!(stream.next().await.unwrap().event.seq, seq);
}

#[tokio::test]
async fn logout_ends_the_streams_of_that_session_only() {
    let app = TestApp::start().await;
    let (leaving, name) = app.logged_in().await;
    let staying = log_in(&app, &name).await;
    let container = app.container(Lifecycle::Creating).await;
    let mut ended = open(&app, &leaving, container).await;
    let mut other_session = open(&app, &staying, container).await;

    let (status, _) = app
        .call(&leaving, "/api/logout", serde_json::json!({}))
        .await;
    assert_eq!(status, 200);
    ends_soon(&mut ended, "the logged-out session's stream").await;
    // EventSource reconnects, and is refused: the page goes to the login page.
    let again = leaving.get(url(&app, container)).send().await.unwrap();
    assert_eq!(again.status(), 401);

    still_open(&app, &mut other_session, container, 1).await;
}

#[tokio::test]
async fn a_password_reset_ends_every_stream_of_the_user() {
    let app = TestApp::start().await;
    let (first, name) = app.logged_in().await;
    let second = log_in(&app, &name).await;
    let (someone_else, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    let mut streams = vec![
        open(&app, &first, container).await,
        open(&app, &second, container).await,
    ];
    let mut unrelated = open(&app, &someone_else, container).await;

    let mut conn = app.ctx.db.get().await.unwrap();
    backend::accounts::reset_password(&mut conn, &app.ctx.redis, &name, "a new horse battery")
        .await
        .unwrap();
    for stream in &mut streams {
        ends_soon(stream, "a stream of the user").await;
    }
    still_open(&app, &mut unrelated, container, 1).await;
}

#[tokio::test]
async fn disabling_an_account_ends_every_stream_of_the_user() {
    let app = TestApp::start().await;
    let (admin, _) = app.logged_in().await;
    let name = app
        .user_with_role("correct horse battery", domain::user::Role::Operator)
        .await;
    let first = log_in(&app, &name).await;
    let second = log_in(&app, &name).await;
    let container = app.container(Lifecycle::Creating).await;
    let mut streams = vec![
        open(&app, &first, container).await,
        open(&app, &second, container).await,
    ];
    let mut unrelated = open(&app, &admin, container).await;

    let id = crate::audit::id_of(&app, &name).await;
    let (status, body) = app
        .call(
            &admin,
            "/api/users/set_disabled",
            serde_json::json!({"id": id, "disabled": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for stream in &mut streams {
        ends_soon(stream, "a stream of the disabled user").await;
    }
    let again = first.get(url(&app, container)).send().await.unwrap();
    assert_eq!(again.status(), 401);
    still_open(&app, &mut unrelated, container, 1).await;
}

#[tokio::test]
async fn a_stream_ends_when_its_session_expires() {
    let app = TestApp::start_with_session(chrono::Duration::seconds(3)).await;
    let (client, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    let opened = tokio::time::Instant::now();
    let mut stream = open(&app, &client, container).await;
    still_open(&app, &mut stream, container, 1).await;

    ends_soon(&mut stream, "the expired session's stream").await;
    let lasted = opened.elapsed();
    assert!(
        lasted >= Duration::from_millis(2500),
        "ended after {lasted:?}, before the session expired"
    );
    let again = client.get(url(&app, container)).send().await.unwrap();
    assert_eq!(again.status(), 401);
}

#[tokio::test]
async fn session_ends_still_arrive_after_the_subscriber_reconnects() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    let mut stream = open(&app, &client, container).await;

    app.kill_progress_subscriber().await;
    eventually("the channel is subscribed again", || async {
        app.subscribers(container).await == 1
    })
    .await;
    // The stream checked its session after the reconnect, found it valid, and stays open.
    still_open(&app, &mut stream, container, 1).await;

    let (status, _) = app
        .call(&client, "/api/logout", serde_json::json!({}))
        .await;
    assert_eq!(status, 200);
    ends_soon(&mut stream, "the stream after a reconnect").await;
}

#[tokio::test]
async fn a_session_gone_while_ends_may_have_been_missed_ends_its_stream() {
    let app = TestApp::start().await;
    let (client, name) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    let mut stream = open(&app, &client, container).await;

    // The session goes without an announcement; then a message the hub cannot read makes every
    // stream check its session in the database.
    let mut conn = app.ctx.db.get().await.unwrap();
    let user = backend::models::User::find_by_username(&mut conn, &name)
        .await
        .unwrap()
        .unwrap();
    backend::models::Session::delete_for_user(&mut conn, user.id)
        .await
        .unwrap();
    let _: i64 = app
        .ctx
        .redis
        .publish(events::SESSIONS_CHANNEL, "not a session")
        .await
        .unwrap();
    ends_soon(&mut stream, "the stream whose session was deleted").await;
}

#[tokio::test]
async fn the_time_live_events_take_to_reach_each_stream_is_in_the_metrics() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    let mut first = open(&app, &client, container).await;
    let mut second = open(&app, &client, container).await;
    app.publish(container, &[event(1, EventKind::Log)]).await;
    assert_eq!(first.next().await.unwrap().event.seq, 1);
    assert_eq!(second.next().await.unwrap().event.seq, 1);

    // `/metrics` answers loopback only.
    let metrics = app
        .client_from("127.0.0.1")
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {series} in:\n{metrics}"))
    };
    // One observation per stream the batch went to, in buckets fine enough for milliseconds.
    assert_eq!(value("infrahaus_progress_fanout_seconds_count"), 2.0);
    let within_a_second = value(r#"infrahaus_progress_fanout_seconds_bucket{le="1"}"#);
    assert_eq!(within_a_second, 2.0);
    value(r#"infrahaus_progress_fanout_seconds_bucket{le="0.001"}"#);
}

/// A silent stream gets a `: keep-alive` comment 15 s after the last thing it sent (so proxies
/// keep it open), measured from its last event rather than from when it opened.
#[tokio::test]
async fn a_silent_stream_gets_a_keep_alive_15_s_after_its_last_event() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let container = app.container(Lifecycle::Creating).await;
    let mut stream = open(&app, &client, container).await;

    // An event 8 s in moves the first keep-alive from 15 s to 23 s after the stream opened.
    tokio::time::sleep(Duration::from_secs(8)).await;
    app.publish(container, &[event(1, EventKind::Log)]).await;
    assert!(
        stream
            .next_chunk(Duration::from_secs(5))
            .await
            .starts_with("id: 1\n")
    );
    let last_event = std::time::Instant::now();

    let comment = stream.next_chunk(Duration::from_secs(25)).await;
    let silence = last_event.elapsed();
    assert_eq!(comment, ": keep-alive\n\n");
    assert!(
        silence >= Duration::from_secs(14),
        "the keep-alive came {silence:?} after the last event, before 15 s of silence"
    );
}
