//! Progress events: the model queries, and the worker's sink writing to a real PostgreSQL and
//! publishing to a real Redis.

use backend::db::{self, DbPool};
use backend::events::{self, EventSink, REDACTED, SinkConfig};
use backend::models::ContainerRow;
use backend::models::event::EventRow;
use backend::redis::{RedisClient, SubscriberClient};
use domain::ContainerId;
use domain::container::{Lifecycle, Phase};
use domain::event::{EventKind, LogStream, ProgressEvent, ScriptProgress};
use fred::prelude::*;
use std::time::Duration;
use tokio::sync::broadcast;

struct Fixture {
    db: DbPool,
    redis: RedisClient,
    container: ContainerId,
}

async fn fixture() -> Fixture {
    let db = db::pool(&testkit::migrated_database().await, 4).unwrap();
    let mut conn = db.get().await.unwrap();
    let node = testkit::fixtures::unreachable_node(&mut conn).await;
    let container = testkit::fixtures::container(
        &mut conn,
        &testkit::fixtures::spec(node.id, 100, "ct"),
        Lifecycle::Creating,
    )
    .await;
    drop(conn);
    let redis = backend::redis::connect(&testkit::redis_url())
        .await
        .unwrap();
    Fixture {
        db,
        redis,
        container,
    }
}

impl Fixture {
    async fn sink(&self, config: SinkConfig) -> EventSink {
        EventSink::open(self.db.clone(), self.redis.clone(), self.container, config)
            .await
            .unwrap()
    }

    async fn stored(&self) -> Vec<ProgressEvent> {
        let mut conn = self.db.get().await.unwrap();
        EventRow::list_after(&mut conn, self.container, 0, 1_000_000)
            .await
            .unwrap()
    }

    async fn row(&self) -> ContainerRow {
        let mut conn = self.db.get().await.unwrap();
        ContainerRow::find(&mut conn, self.container).await.unwrap()
    }
}

/// A subscriber on the container's channel, counting messages.
struct Listener {
    _client: SubscriberClient,
    messages: broadcast::Receiver<fred::types::Message>,
}

async fn listen(container: ContainerId) -> Listener {
    let client = backend::redis::connect_subscriber(&testkit::redis_url())
        .await
        .unwrap();
    let messages = client.message_rx();
    client.subscribe(events::channel(container)).await.unwrap();
    Listener {
        _client: client,
        messages,
    }
}

impl Listener {
    /// Messages until one carries an event matching `last`; fails after 10 s.
    async fn until(&mut self, last: impl Fn(&ProgressEvent) -> bool) -> Vec<Vec<ProgressEvent>> {
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let message = self.messages.recv().await.unwrap();
                let batch = events::decode(&message.value.as_string().unwrap()).unwrap();
                let done = batch.iter().any(&last);
                got.push(batch);
                if done {
                    return;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the expected event never came; got {got:?}"));
        got
    }
}

fn seqs(events: &[ProgressEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

#[tokio::test]
async fn model_inserts_in_one_statement_and_lists_after_a_seq() {
    let f = fixture().await;
    let mut conn = f.db.get().await.unwrap();
    assert_eq!(
        EventRow::max_seq(&mut conn, f.container).await.unwrap(),
        None
    );
    let batch: Vec<ProgressEvent> = (1..=10)
        .map(|seq| ProgressEvent {
            seq,
            kind: if seq == 1 {
                EventKind::Step
            } else {
                EventKind::Log
            },
            phase: Phase::Sync,
            percent: 70,
            message: format!("line {seq}"),
            stream: (seq > 1).then_some(LogStream::Stdout),
            script: Some(ScriptProgress {
                name: "10-base.sh".into(),
                index: 2,
                total: 3,
            }),
            at: chrono::Utc::now(),
        })
        .collect();
    assert_eq!(
        EventRow::insert_batch(&mut conn, f.container, &batch)
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        EventRow::insert_batch(&mut conn, f.container, &batch[8..])
            .await
            .unwrap(),
        0,
        "a retried write is skipped"
    );
    let page = EventRow::list_after(&mut conn, f.container, 3, 4)
        .await
        .unwrap();
    assert_eq!(seqs(&page), vec![4, 5, 6, 7]);
    assert_eq!(page[0].script, batch[3].script);
    assert_eq!(page[0].message, "line 4");
    assert_eq!(EventRow::count(&mut conn, f.container).await.unwrap(), 10);
    assert_eq!(
        EventRow::count_logs(&mut conn, f.container).await.unwrap(),
        9
    );
    assert_eq!(
        EventRow::max_seq(&mut conn, f.container).await.unwrap(),
        Some(10)
    );
}

#[tokio::test]
async fn log_lines_are_written_and_published_in_batches() {
    let f = fixture().await;
    let mut listener = listen(f.container).await;
    let sink = f.sink(SinkConfig::default()).await;
    sink.step(Phase::Sync, 60, "installing packages")
        .await
        .unwrap();
    for n in 0..1000 {
        sink.log(LogStream::Stdout, &format!("line {n}"))
            .await
            .unwrap();
    }
    let checkpoint = serde_json::json!({"finalize": true});
    sink.complete("ready", &checkpoint).await.unwrap();
    // Whoever sees the complete event finds the row ready with its last checkpoint.
    let row = f.row().await;
    assert_eq!(row.lifecycle, Lifecycle::Ready);
    assert_eq!(row.checkpoint, checkpoint);

    let messages = listener.until(|e| e.kind == EventKind::Complete).await;
    let published: Vec<ProgressEvent> = messages.iter().flatten().cloned().collect();
    assert_eq!(seqs(&published), (1..=1002).collect::<Vec<_>>());
    // 1000 lines in batches of 200, plus the step and the terminal event.
    assert!(
        (3..=12).contains(&messages.len()),
        "{} messages for 1002 events",
        messages.len()
    );

    let stored = f.stored().await;
    assert_eq!(stored, published);
    assert_eq!(stored[500].phase, Phase::Sync);
    assert_eq!(stored[500].percent, 60);
    assert_eq!(stored[1001].percent, 100);
}

#[tokio::test]
async fn a_few_lines_are_flushed_together_after_the_interval() {
    let f = fixture().await;
    let mut listener = listen(f.container).await;
    let sink = f
        .sink(SinkConfig {
            flush_interval: Duration::from_millis(300),
            ..SinkConfig::default()
        })
        .await;
    for n in 1..=3 {
        sink.log(LogStream::Stderr, &format!("warning {n}"))
            .await
            .unwrap();
    }
    let messages = listener.until(|e| e.seq == 3).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(seqs(&messages[0]), vec![1, 2, 3]);
    assert_eq!(messages[0][0].stream, Some(LogStream::Stderr));
    assert_eq!(seqs(&f.stored().await), vec![1, 2, 3]);
}

#[tokio::test]
async fn a_dropped_sink_still_writes_what_it_buffered() {
    let f = fixture().await;
    let mut listener = listen(f.container).await;
    let sink = f.sink(SinkConfig::default()).await;
    sink.log(LogStream::Stdout, "last words").await.unwrap();
    drop(sink);
    listener.until(|e| e.message == "last words").await;
    assert_eq!(seqs(&f.stored().await), vec![1]);
}

#[tokio::test]
async fn a_new_sink_continues_the_numbering() {
    let f = fixture().await;
    let first = f.sink(SinkConfig::default()).await;
    first.step(Phase::Create, 5, "creating").await.unwrap();
    for n in 0..5 {
        first
            .log(LogStream::Stdout, &format!("a{n}"))
            .await
            .unwrap();
    }
    first.close().await.unwrap();

    // A worker restart: a new sink for the same container.
    let second = f.sink(SinkConfig::default()).await;
    second.step(Phase::Start, 25, "starting").await.unwrap();
    second.log(LogStream::Stdout, "b0").await.unwrap();
    second
        .complete("ready", &serde_json::json!({}))
        .await
        .unwrap();

    let stored = f.stored().await;
    assert_eq!(seqs(&stored), (1..=9).collect::<Vec<_>>());
    assert_eq!(stored[6].message, "starting");
    assert_eq!(stored[8].kind, EventKind::Complete);
}

#[tokio::test]
async fn past_the_log_limit_lines_are_dropped_and_counted_once() {
    let f = fixture().await;
    let config = SinkConfig {
        batch_lines: 4,
        log_limit: 10,
        ..SinkConfig::default()
    };
    let sink = f.sink(config.clone()).await;
    sink.step(Phase::Deploy, 40, "running scripts")
        .await
        .unwrap();
    for n in 0..25 {
        sink.log(LogStream::Stdout, &format!("line {n}"))
            .await
            .unwrap();
    }
    sink.error("script failed").await.unwrap();

    let stored = f.stored().await;
    let kinds: Vec<EventKind> = stored.iter().map(|e| e.kind).collect();
    let mut expected = vec![EventKind::Step];
    expected.extend([EventKind::Log; 11]);
    expected.push(EventKind::Error);
    assert_eq!(kinds, expected);
    assert_eq!(stored[10].message, "line 9");
    let marker = &stored[11];
    assert_eq!(marker.stream, None);
    assert!(
        marker.message.contains("15 further lines"),
        "{}",
        marker.message
    );

    // The limit holds across a restart.
    let again = f.sink(config).await;
    again.log(LogStream::Stdout, "more").await.unwrap();
    again.close().await.unwrap();
    let stored = f.stored().await;
    assert_eq!(stored.len(), 14);
    assert!(
        stored[13].message.contains("1 further lines"),
        "{}",
        stored[13].message
    );
}

#[tokio::test]
async fn registered_secrets_never_reach_the_table_or_the_channel() {
    let f = fixture().await;
    let mut listener = listen(f.container).await;
    let sink = f.sink(SinkConfig::default()).await;
    sink.redact("hunter2");
    sink.redact("s3cr3t-token");
    sink.step(Phase::Create, 1, "root password hunter2")
        .await
        .unwrap();
    sink.log(LogStream::Stdout, "token=s3cr3t-token pw=hunter2")
        .await
        .unwrap();
    sink.error("failed with s3cr3t-token").await.unwrap();

    let published: Vec<ProgressEvent> = listener
        .until(|e| e.kind == EventKind::Error)
        .await
        .into_iter()
        .flatten()
        .collect();
    let stored = f.stored().await;
    assert_eq!(stored, published);
    let messages: Vec<&str> = stored.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            format!("root password {REDACTED}"),
            format!("token={REDACTED} pw={REDACTED}"),
            format!("failed with {REDACTED}"),
        ]
    );
    // The row keeps the same redacted message as its error.
    let row = f.row().await;
    assert_eq!(row.lifecycle, Lifecycle::Error);
    assert_eq!(
        row.error_message.as_deref(),
        Some(format!("failed with {REDACTED}").as_str())
    );
}
