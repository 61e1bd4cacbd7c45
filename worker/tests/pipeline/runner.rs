//! The runner with a trivial handler: concurrency cap, acks, Redis connections that do not
//! grow with the concurrency, and shutdown that waits for running jobs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use backend::queue::{Job, Queue, QueueKeys, Reader};
use domain::ContainerId;
use tokio_util::sync::CancellationToken;
use worker::{JobOutcome, JobRun, Runner, RunnerConfig};

#[derive(Default)]
struct Counters {
    running: AtomicUsize,
    most: AtomicUsize,
    finished: AtomicUsize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_at_once_on_two_redis_connections() {
    const JOBS: usize = 200;
    const CONCURRENCY: usize = 50;
    let redis = backend::redis::connect(&testkit::redis_url())
        .await
        .unwrap();
    let queue = Queue::with_keys(redis.clone(), QueueKeys::namespaced(&testkit::unique("rq")));
    queue.ensure_group().await.unwrap();
    for _ in 0..JOBS {
        queue
            .enqueue(&Job {
                container_id: ContainerId::new_random(),
            })
            .await
            .unwrap();
    }
    let dedicated = backend::redis::connect(&testkit::redis_url())
        .await
        .unwrap();
    let counters = Arc::new(Counters::default());
    let handler = {
        let counters = counters.clone();
        move |run: JobRun| {
            let counters = counters.clone();
            async move {
                assert_eq!(run.attempt, 1);
                let now = counters.running.fetch_add(1, Ordering::SeqCst) + 1;
                counters.most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                counters.running.fetch_sub(1, Ordering::SeqCst);
                counters.finished.fetch_add(1, Ordering::SeqCst);
                JobOutcome::Done
            }
        }
    };
    let shutdown = CancellationToken::new();
    let runner = Runner::new(
        Reader::new(queue.clone(), dedicated),
        handler,
        RunnerConfig::new(CONCURRENCY),
    );
    let task = tokio::spawn(runner.run(shutdown.clone()));
    let mut connections = Vec::new();
    while counters.finished.load(Ordering::SeqCst) < JOBS {
        connections.push(testkit::own_redis_ports().len());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!task.is_finished());
    }
    shutdown.cancel();
    let report = task.await.unwrap();
    assert_eq!(report.done, JOBS as u64, "{report:?}");
    assert!(counters.most.load(Ordering::SeqCst) <= CONCURRENCY);
    assert!(
        connections.iter().all(|&n| n == 2),
        "the shared client and the reader's: {connections:?}"
    );
    let left: i64 = fred::interfaces::StreamsInterface::xlen(&redis, &queue.keys().stream)
        .await
        .unwrap();
    assert_eq!(left, 0, "every job acked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_running_jobs_and_leaves_interrupted_ones_pending() {
    let redis = backend::redis::connect(&testkit::redis_url())
        .await
        .unwrap();
    let queue = Queue::with_keys(redis.clone(), QueueKeys::namespaced(&testkit::unique("rq")));
    queue.ensure_group().await.unwrap();
    let job = Job {
        container_id: ContainerId::new_random(),
    };
    queue.enqueue(&job).await.unwrap();
    let started = Arc::new(tokio::sync::Notify::new());
    let handler = {
        let started = started.clone();
        move |run: JobRun| {
            let started = started.clone();
            async move {
                started.notify_one();
                // Work until asked to stop, then stop "at a checkpoint".
                while run.stop.requested().is_none() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                JobOutcome::Interrupted
            }
        }
    };
    let dedicated = backend::redis::connect(&testkit::redis_url())
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(
        Runner::new(
            Reader::new(queue.clone(), dedicated),
            handler,
            RunnerConfig::new(2).with_shutdown_deadline(Duration::from_secs(30)),
        )
        .run(shutdown.clone()),
    );
    started.notified().await;
    shutdown.cancel();
    let report = task.await.unwrap();
    assert_eq!(report.left_pending, 1, "{report:?}");
    assert_eq!(report.aborted, 0, "{report:?}");
    // Still pending, and the lease was dropped on the way out: the next scan takes it over.
    let taken = queue.take_over("another", 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].job, job);
    assert_eq!(taken[0].deliveries, 2);
}
