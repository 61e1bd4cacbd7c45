//! No-op jobs per second: the worker crate's [`Runner`] with a handler that does nothing,
//! draining a queue filled beforehand.

use crate::procs::cpu_time;
use crate::report::{Report, Verdict};
use anyhow::bail;
use backend::queue::{Enqueued, Job, Queue, QueueKeys, Reader};
use domain::ContainerId;
use fred::prelude::*;
use futures::{StreamExt, TryStreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use worker::{JobOutcome, JobRun, Runner, RunnerConfig};

pub async fn run(
    report: &mut Report,
    redis_url: &str,
    jobs: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    eprintln!("==> no-op jobs per second ({jobs} jobs, concurrency {concurrency})");
    let redis = backend::redis::connect(redis_url).await?;
    let namespace = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let queue = Queue::with_keys(redis.clone(), QueueKeys::namespaced(&namespace));
    queue.ensure_group().await?;
    futures::stream::iter(0..jobs)
        .map(|_| {
            let queue = queue.clone();
            async move {
                let job = Job {
                    container_id: ContainerId::new_random(),
                };
                match queue.enqueue(&job).await? {
                    Enqueued::Added => Ok(()),
                    Enqueued::AlreadyQueued => bail!("a fresh job was not added"),
                }
            }
        })
        .buffer_unordered(100)
        .try_collect::<()>()
        .await?;

    let handled = Arc::new(AtomicUsize::new(0));
    let all_handled = CancellationToken::new();
    let handler = {
        let handled = handled.clone();
        let all_handled = all_handled.clone();
        move |_run: JobRun| {
            if handled.fetch_add(1, Ordering::Relaxed) + 1 == jobs {
                all_handled.cancel();
            }
            std::future::ready(JobOutcome::Done)
        }
    };
    let runner = Runner::new(
        Reader::new(queue.clone(), backend::redis::connect(redis_url).await?),
        handler,
        RunnerConfig::new(concurrency).with_shutdown_deadline(Duration::from_secs(60)),
    );
    let redis_cpu_before = redis_cpu(&redis).await?;
    let own_cpu_before = cpu_time(std::process::id())?;
    let started = Instant::now();
    let running = tokio::spawn(runner.run(all_handled.clone()));
    let limit = tokio::time::sleep(Duration::from_secs(600));
    tokio::select! {
        () = all_handled.cancelled() => {}
        () = limit => {
            all_handled.cancel();
            bail!("the runner handled {} of {jobs} jobs in 600 s", handled.load(Ordering::Relaxed));
        }
    }
    // Stopping waits for the running jobs' acks.
    let outcome = running.await?;
    let elapsed = started.elapsed();
    let redis_cpu = redis_cpu(&redis).await? - redis_cpu_before;
    let own_cpu = cpu_time(std::process::id())?.saturating_sub(own_cpu_before);
    let left: i64 = redis.xlen(queue.keys().stream.as_str()).await?;
    let _: i64 = redis.del(queue.keys().stream.as_str()).await?;
    if outcome.done != jobs as u64 || left != 0 {
        bail!(
            "the runner acked {} of {jobs} jobs; {left} left in the stream",
            outcome.done
        );
    }
    let rate = jobs as f64 / elapsed.as_secs_f64();
    report.add(
        "no-op jobs per second",
        format!(
            "{jobs} jobs queued beforehand, drained by the worker crate's Runner (concurrency {concurrency}) with a no-op handler, in the bench process; every job read, run and acked"
        ),
        format!(
            "{rate:.0} jobs/s ({:.2} s; CPU per job: Redis {:.0} µs, runner {:.0} µs)",
            elapsed.as_secs_f64(),
            redis_cpu * 1e6 / jobs as f64,
            own_cpu.as_secs_f64() * 1e6 / jobs as f64
        ),
        ">= 35000 jobs/s",
        Verdict::of(rate >= 35_000.0),
    );
    Ok(())
}

/// Seconds of CPU the Redis server has used (`INFO cpu`).
async fn redis_cpu(redis: &backend::redis::RedisClient) -> anyhow::Result<f64> {
    let info: String = redis.info(Some(fred::types::InfoKind::Cpu)).await?;
    let field = |name: &str| -> f64 {
        info.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    Ok(field("used_cpu_user") + field("used_cpu_sys"))
}
