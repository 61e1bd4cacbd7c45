//! Enqueue → pickup latency on an idle queue: the real [`Queue`] and [`Reader`], one consumer
//! blocked in its read, one job at a time.

use crate::report::{Report, Samples, Verdict, ms};
use anyhow::{Context, bail};
use backend::queue::{Enqueued, Job, Queue, QueueKeys, Reader};
use domain::ContainerId;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Jobs not counted, to warm connections and caches.
const WARMUP: usize = 100;

pub async fn run(report: &mut Report, redis_url: &str, jobs: usize) -> anyhow::Result<()> {
    eprintln!("==> enqueue -> pickup latency ({jobs} sequential jobs)");
    let namespace = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let redis = backend::redis::connect(redis_url).await?;
    let queue = Queue::with_keys(redis.clone(), QueueKeys::namespaced(&namespace));
    queue.ensure_group().await?;
    let reader = Arc::new(Reader::new(
        queue.clone(),
        backend::redis::connect(redis_url).await?,
    ));

    let (picked_tx, mut picked) = mpsc::unbounded_channel();
    let consumer = tokio::spawn({
        let reader = reader.clone();
        async move {
            loop {
                match reader.next("bench-consumer", Duration::from_secs(5)).await {
                    Ok(Some(delivery)) => {
                        if picked_tx.send((delivery, Instant::now())).is_err() {
                            return;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        eprintln!("the consumer's read failed: {e}");
                        return;
                    }
                }
            }
        }
    });

    let mut samples = Vec::with_capacity(jobs);
    for i in 0..WARMUP + jobs {
        // The consumer is back in its blocking read: the queue is idle when the job arrives.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let job = Job {
            container_id: ContainerId::new_random(),
        };
        let start = Instant::now();
        if queue.enqueue(&job).await? != Enqueued::Added {
            bail!("a fresh job was not added");
        }
        let (delivery, picked_at) = tokio::time::timeout(Duration::from_secs(10), picked.recv())
            .await
            .context("no pickup within 10 s")?
            .context("the consumer stopped")?;
        if delivery.job != job {
            bail!("picked up another job than the one enqueued");
        }
        queue.ack(&delivery).await?;
        if i >= WARMUP {
            samples.push(picked_at - start);
        }
    }
    consumer.abort();
    // The acks deleted the entries and markers; the stream and its group remain.
    let _: Result<i64, _> =
        fred::prelude::KeysInterface::del(&redis, queue.keys().stream.as_str()).await;

    let samples = Samples::new(samples);
    let p99 = samples.percentile(99.0);
    report.add(
        "enqueue -> worker pickup latency",
        format!(
            "{} sequential jobs on an idle queue (1 ms apart), 1 consumer blocked in XREADGROUP, Redis on loopback",
            samples.len()
        ),
        format!(
            "p50 {} / p99 {} / max {}",
            ms(samples.percentile(50.0)),
            ms(p99),
            ms(samples.max())
        ),
        "p99 <= 1 ms",
        Verdict::of(p99 <= Duration::from_millis(1)),
    );
    Ok(())
}
