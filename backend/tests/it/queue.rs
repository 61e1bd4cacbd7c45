//! The job queue against a real Redis: each test has its own stream, group and markers.

use backend::queue::{Delivery, Enqueued, Job, MAX_DELIVERIES, Queue, QueueKeys, Reader};
use backend::redis::RedisClient;
use domain::ContainerId;
use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn client() -> RedisClient {
    backend::redis::connect(&testkit::redis_url())
        .await
        .unwrap()
}

/// A queue under a namespace of its own, with its group created.
async fn queue(redis: &RedisClient) -> Queue {
    let queue = Queue::with_keys(redis.clone(), QueueKeys::namespaced(&testkit::unique("q")));
    queue.ensure_group().await.unwrap();
    queue
}

fn job() -> Job {
    Job {
        container_id: ContainerId::new_random(),
    }
}

async fn command(redis: &RedisClient, name: &'static str, args: Vec<&str>) -> Value {
    redis
        .custom(
            CustomCommand::new_static(name, ClusterHash::FirstKey, false),
            args,
        )
        .await
        .unwrap()
}

async fn stream_len(queue: &Queue, redis: &RedisClient) -> i64 {
    redis.xlen(&queue.keys().stream).await.unwrap()
}

#[tokio::test]
async fn enqueue_consume_ack_and_one_open_job_per_container() {
    let redis = client().await;
    let queue = queue(&redis).await;
    queue
        .ensure_group()
        .await
        .expect("a second ensure_group is fine");
    let reader = Reader::new(queue.clone(), client().await);
    let job = job();

    assert_eq!(queue.enqueue(&job).await.unwrap(), Enqueued::Added);
    assert_eq!(queue.enqueue(&job).await.unwrap(), Enqueued::AlreadyQueued);
    assert_eq!(stream_len(&queue, &redis).await, 1);

    let delivery = reader
        .next("c1", Duration::from_secs(2))
        .await
        .unwrap()
        .expect("a job");
    assert_eq!(delivery.job, job);
    assert_eq!((delivery.deliveries, delivery.consumer.as_str()), (1, "c1"));
    assert!(!delivery.is_exhausted());
    // Still running: a new enqueue is refused, and nothing else is there to read.
    assert_eq!(queue.enqueue(&job).await.unwrap(), Enqueued::AlreadyQueued);
    assert!(
        reader
            .next("c1", Duration::from_millis(50))
            .await
            .unwrap()
            .is_none()
    );

    assert!(queue.ack(&delivery).await.unwrap());
    assert!(!queue.ack(&delivery).await.unwrap(), "acked twice");
    assert_eq!(
        stream_len(&queue, &redis).await,
        0,
        "acked entries are deleted"
    );
    let marker: Option<String> = redis
        .get(queue.keys().marker(job.container_id))
        .await
        .unwrap();
    assert_eq!(marker, None);

    // Done: the container may be queued again.
    assert_eq!(queue.enqueue(&job).await.unwrap(), Enqueued::Added);
}

#[tokio::test]
async fn a_batched_read_takes_several_jobs_and_a_batched_ack_frees_their_containers() {
    let redis = client().await;
    let queue = queue(&redis).await;
    let reader = Reader::new(queue.clone(), client().await);
    let jobs: Vec<Job> = (0..5).map(|_| job()).collect();
    for job in &jobs {
        assert_eq!(queue.enqueue(job).await.unwrap(), Enqueued::Added);
    }

    let first = reader
        .next_batch("c1", Duration::from_secs(2), 3)
        .await
        .unwrap();
    assert_eq!(first.len(), 3, "at most max: {first:?}");
    let rest = reader
        .next_batch("c1", Duration::from_secs(2), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 2, "what is left: {rest:?}");
    let read: Vec<Job> = first.iter().chain(&rest).map(|d| d.job.clone()).collect();
    assert_eq!(read, jobs, "in queue order, each once");
    assert!(
        first
            .iter()
            .chain(&rest)
            .all(|d| (d.deliveries, d.consumer.as_str()) == (1, "c1"))
    );
    assert!(
        reader
            .next_batch("c1", Duration::from_millis(50), 10)
            .await
            .unwrap()
            .is_empty()
    );
    for job in &jobs {
        assert_eq!(queue.enqueue(job).await.unwrap(), Enqueued::AlreadyQueued);
    }

    // One call for the first three and one already acked: each entry keeps its own result.
    assert!(queue.ack(&rest[0]).await.unwrap());
    let mut batch = first.clone();
    batch.push(rest[0].clone());
    batch.push(rest[1].clone());
    assert_eq!(
        queue.ack_many(&batch).await.unwrap(),
        vec![true, true, true, false, true]
    );
    assert_eq!(
        stream_len(&queue, &redis).await,
        0,
        "acked entries are deleted"
    );
    let pending = command(
        &redis,
        "XPENDING",
        vec![&queue.keys().stream, &queue.keys().group],
    )
    .await
    .into_array();
    assert_eq!(pending.first().and_then(Value::as_i64), Some(0));
    for job in &jobs {
        let marker: Option<String> = redis
            .get(queue.keys().marker(job.container_id))
            .await
            .unwrap();
        assert_eq!(marker, None);
        assert_eq!(queue.enqueue(job).await.unwrap(), Enqueued::Added);
    }
    assert!(queue.ack_many(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_batched_ack_keeps_a_marker_that_names_a_newer_entry() {
    let redis = client().await;
    let queue = queue(&redis).await;
    let reader = Reader::new(queue.clone(), client().await);
    let (a, b) = (job(), job());
    queue.enqueue(&a).await.unwrap();
    queue.enqueue(&b).await.unwrap();
    let delivered = reader
        .next_batch("c", Duration::from_secs(2), 2)
        .await
        .unwrap();
    assert_eq!(delivered.len(), 2);
    // `b`'s marker now names another entry (as after a trimmed entry and a new enqueue).
    let marker_b = queue.keys().marker(b.container_id);
    let _: () = redis
        .set(&marker_b, "9999999999999-0", None, None, false)
        .await
        .unwrap();
    assert_eq!(queue.ack_many(&delivered).await.unwrap(), vec![true, true]);
    let marker_a: Option<String> = redis
        .get(queue.keys().marker(a.container_id))
        .await
        .unwrap();
    let marker_b: Option<String> = redis.get(&marker_b).await.unwrap();
    assert_eq!(marker_a, None);
    assert_eq!(marker_b.as_deref(), Some("9999999999999-0"));
}

#[tokio::test]
async fn scripts_are_loaded_again_after_a_script_flush() {
    let redis = client().await;
    let queue = queue(&redis).await;
    let job = job();
    assert_eq!(queue.enqueue(&job).await.unwrap(), Enqueued::Added);
    let _ = command(&redis, "SCRIPT", vec!["FLUSH"]).await;
    assert_eq!(queue.enqueue(&job).await.unwrap(), Enqueued::AlreadyQueued);
}

#[tokio::test]
async fn a_stale_marker_does_not_block_the_container() {
    let redis = client().await;
    let queue = queue(&redis).await;
    let job = job();
    let _: () = redis
        .set(
            queue.keys().marker(job.container_id),
            "1-1",
            None,
            None,
            false,
        )
        .await
        .unwrap();
    assert_eq!(queue.enqueue(&job).await.unwrap(), Enqueued::Added);
}

#[tokio::test]
async fn a_job_whose_consumer_died_is_reclaimed_with_its_delivery_count() {
    let redis = client().await;
    let queue = queue(&redis).await;
    let job = job();
    queue.enqueue(&job).await.unwrap();

    let dying = Reader::new(queue.clone(), client().await);
    let first = dying
        .next("worker-a", Duration::from_secs(2))
        .await
        .unwrap()
        .expect("a job");
    drop(dying);

    let not_idle_yet = queue
        .reclaim("worker-b", Duration::from_secs(3600), 10)
        .await
        .unwrap();
    assert!(not_idle_yet.is_empty(), "{not_idle_yet:?}");

    let reclaimed = queue.reclaim("worker-b", Duration::ZERO, 10).await.unwrap();
    assert_eq!(reclaimed.len(), 1, "{reclaimed:?}");
    let second = &reclaimed[0];
    assert_eq!(second.entry_id, first.entry_id);
    assert_eq!(second.job, job);
    assert_eq!(
        (second.deliveries, second.consumer.as_str()),
        (2, "worker-b")
    );

    assert!(!queue.touch(&first).await.unwrap(), "worker-a lost the job");
    assert!(queue.touch(second).await.unwrap());
    let touched_again = queue.reclaim("worker-c", Duration::ZERO, 10).await.unwrap();
    assert_eq!(touched_again[0].deliveries, 3, "touch keeps the count");

    assert!(queue.ack(&touched_again[0]).await.unwrap());
    assert!(
        queue
            .reclaim("worker-d", Duration::ZERO, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_exhausted_after_max_deliveries() {
    let redis = client().await;
    let queue = queue(&redis).await;
    let reader = Reader::new(queue.clone(), client().await);
    queue.enqueue(&job()).await.unwrap();

    let mut delivery: Delivery = reader
        .next("w0", Duration::from_secs(2))
        .await
        .unwrap()
        .unwrap();
    let mut seen = vec![(delivery.deliveries, delivery.is_exhausted())];
    for round in 1..=MAX_DELIVERIES {
        let mut claimed = queue
            .reclaim(&format!("w{round}"), Duration::ZERO, 1)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        delivery = claimed.remove(0);
        seen.push((delivery.deliveries, delivery.is_exhausted()));
    }
    let expected: Vec<(u64, bool)> = (1..=MAX_DELIVERIES + 1)
        .map(|n| (n, n > MAX_DELIVERIES))
        .collect();
    assert_eq!(seen, expected);

    // The worker ends it and acks it.
    assert!(queue.ack(&delivery).await.unwrap());

    let strict = queue.clone().with_max_deliveries(1);
    strict.enqueue(&job()).await.unwrap();
    reader
        .next("w0", Duration::from_secs(2))
        .await
        .unwrap()
        .unwrap();
    let again = strict.reclaim("w1", Duration::ZERO, 1).await.unwrap();
    assert!(again[0].is_exhausted());
}

#[tokio::test]
async fn reclaim_takes_at_most_max() {
    let redis = client().await;
    let queue = queue(&redis).await;
    let reader = Reader::new(queue.clone(), client().await);
    for _ in 0..5 {
        queue.enqueue(&job()).await.unwrap();
        reader
            .next("gone", Duration::from_secs(2))
            .await
            .unwrap()
            .unwrap();
    }
    let two = queue.reclaim("b", Duration::ZERO, 2).await.unwrap();
    let all = queue.reclaim("c", Duration::ZERO, 10).await.unwrap();
    assert_eq!((two.len(), all.len()), (2, 5));
    let ids: HashSet<_> = all.iter().map(|d| d.entry_id.clone()).collect();
    assert_eq!(ids.len(), 5);
    assert!(two.iter().all(|d| ids.contains(&d.entry_id)));
}

#[tokio::test]
async fn a_malformed_entry_is_dropped() {
    let redis = client().await;
    let queue = queue(&redis).await;
    let reader = Reader::new(queue.clone(), client().await);
    let _: String = redis
        .xadd(
            &queue.keys().stream,
            false,
            None,
            "*",
            vec![("job", "not json")],
        )
        .await
        .unwrap();
    let read = reader.next("c", Duration::from_secs(2)).await.unwrap();
    assert!(read.is_none());
    assert_eq!(stream_len(&queue, &redis).await, 0);
}

#[tokio::test]
async fn next_creates_a_missing_group() {
    let redis = client().await;
    let queue = Queue::with_keys(redis.clone(), QueueKeys::namespaced(&testkit::unique("q")));
    let reader = Reader::new(queue.clone(), client().await);
    assert!(
        reader
            .next("c", Duration::from_millis(20))
            .await
            .unwrap()
            .is_none()
    );
    queue.enqueue(&job()).await.unwrap();
    assert!(
        reader
            .next("c", Duration::from_secs(2))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn many_concurrent_consumers_share_two_connections() {
    let shared = client().await;
    let queue = queue(&shared).await;
    let reader = Arc::new(Reader::new(queue.clone(), client().await));
    let before = connections_of_this_process(&shared).await;
    assert_eq!(before, 2, "the shared client and the reader's");

    const JOBS: usize = 40;
    let handled = Arc::new(Mutex::new(Vec::new()));
    let mut consumers = Vec::new();
    for n in 0..50 {
        let (reader, handled) = (reader.clone(), handled.clone());
        consumers.push(tokio::spawn(async move {
            let name = format!("consumer-{n}");
            while handled.lock().unwrap().len() < JOBS {
                if let Some(d) = reader.next(&name, Duration::from_millis(50)).await.unwrap() {
                    reader.queue().ack(&d).await.unwrap();
                    handled.lock().unwrap().push(d.job.container_id);
                }
            }
        }));
    }
    // Measure while a consumer is blocked in XREADGROUP and the others wait for their turn.
    wait_until_blocked(&shared).await;
    let during = connections_of_this_process(&shared).await;

    let mut jobs = Vec::new();
    for _ in 0..JOBS {
        let job = job();
        queue.enqueue(&job).await.unwrap();
        jobs.push(job.container_id);
    }
    for consumer in consumers {
        tokio::time::timeout(Duration::from_secs(30), consumer)
            .await
            .expect("consumers finish")
            .unwrap();
    }
    let after = connections_of_this_process(&shared).await;
    assert_eq!((during, after), (before, before));

    let mut handled = handled.lock().unwrap().clone();
    handled.sort();
    jobs.sort();
    assert_eq!(handled, jobs, "every job exactly once");
}

/// Waits until one of this process's connections is blocked in XREADGROUP.
async fn wait_until_blocked(redis: &RedisClient) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list = command(redis, "CLIENT", vec!["LIST"])
            .await
            .as_string()
            .unwrap();
        let blocked = testkit::own_client_lines(&list)
            .iter()
            .any(|line| line.contains("cmd=xreadgroup"));
        if blocked {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no consumer ever blocked"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How many clients `CLIENT LIST` shows from this process's sockets.
async fn connections_of_this_process(redis: &RedisClient) -> usize {
    let list = command(redis, "CLIENT", vec!["LIST"])
        .await
        .as_string()
        .unwrap();
    testkit::own_client_lines(&list).len()
}

#[tokio::test]
async fn jobs_of_a_consumer_without_a_lease_are_taken_over_and_a_live_lease_keeps_them() {
    use backend::queue::JobState;
    let redis = client().await;
    let queue = queue(&redis).await;
    let reader = Reader::new(queue.clone(), client().await);
    let job = job();
    queue.enqueue(&job).await.unwrap();
    assert_eq!(
        queue.job_state(job.container_id).await.unwrap(),
        JobState::Waiting
    );
    queue
        .renew_lease("alive", Duration::from_secs(60))
        .await
        .unwrap();
    let first = reader
        .next("alive", Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        queue.job_state(job.container_id).await.unwrap(),
        JobState::Running
    );
    // However long it has been held, a live lease keeps it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(queue.take_over("other", 10).await.unwrap().is_empty());
    // The lease is gone (the process died, or stopped and dropped it): taken over at once.
    queue.drop_lease("alive").await.unwrap();
    assert_eq!(
        queue.job_state(job.container_id).await.unwrap(),
        JobState::Orphaned
    );
    let taken = queue.take_over("other", 10).await.unwrap();
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(taken[0].job, job);
    assert_eq!(taken[0].deliveries, 2);
    assert_eq!(taken[0].taken_from.as_deref(), Some("alive"));
    assert_eq!(
        queue.check(&first).await.unwrap(),
        backend::queue::Held::Lost
    );
    // A worker that gives a job back (to retry it) hands it to any worker's next scan.
    assert!(queue.release(&taken[0]).await.unwrap());
    let again = queue.take_over("third", 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].deliveries, 3);
    assert_eq!(again[0].taken_from, None);
    // The scan never takes its own jobs, whatever its lease.
    assert!(queue.take_over("third", 10).await.unwrap().is_empty());
    assert!(queue.ack(&again[0]).await.unwrap());
    assert_eq!(
        queue.job_state(job.container_id).await.unwrap(),
        JobState::None
    );
}

#[tokio::test]
async fn a_cancel_removes_a_job_never_handed_out_and_is_stored_for_a_held_one() {
    use backend::queue::{CancelRequest, Held};
    let redis = client().await;
    let queue = queue(&redis).await;
    let reader = Reader::new(queue.clone(), client().await);
    let waiting = job();
    queue.enqueue(&waiting).await.unwrap();
    assert_eq!(
        queue
            .request_cancel(waiting.container_id, true)
            .await
            .unwrap(),
        CancelRequest::Removed
    );
    assert_eq!(stream_len(&queue, &redis).await, 0);
    assert_eq!(
        queue
            .request_cancel(waiting.container_id, true)
            .await
            .unwrap(),
        CancelRequest::NoJob
    );

    let held = job();
    queue.enqueue(&held).await.unwrap();
    let delivery = reader
        .next("w", Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(queue.check(&delivery).await.unwrap(), Held::Held);
    assert_eq!(
        queue.request_cancel(held.container_id, true).await.unwrap(),
        CancelRequest::Stored
    );
    assert_eq!(queue.check(&delivery).await.unwrap(), Held::CancelRequested);
    // The ack clears the cancel with the job: the next job of the container is not cancelled.
    assert!(queue.ack(&delivery).await.unwrap());
    queue.enqueue(&held).await.unwrap();
    let next = reader
        .next("w", Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(queue.check(&next).await.unwrap(), Held::Held);
    let cancel_key: Option<String> = redis
        .get(queue.keys().cancel(held.container_id))
        .await
        .unwrap();
    assert_eq!(cancel_key, None);
}
