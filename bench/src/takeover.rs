//! Takeover latency: the `worker` binary is killed with SIGKILL in the middle of a script and
//! started again 2 s later (systemd's `RestartSec=2`); the figure is the time from the kill to
//! the takeover event ("The worker stopped; resuming from …") of the restarted worker, which
//! resumes the job from its checkpoint. The lease is the production default.

use crate::pipeline::{insert_container, simulator};
use crate::procs::{Env, Proc};
use crate::report::{Report, Samples, Verdict, ms};
use anyhow::bail;
use backend::crypto::SecretBox;
use backend::db::DbPool;
use backend::models::ContainerRow;
use backend::models::event::EventRow;
use backend::queue::{Job, Queue, QueueKeys};
use domain::ContainerId;
use domain::container::Lifecycle;
use pvesim::SimHandle;
use std::time::{Duration, Instant};

/// Sleeps on its first run (the marker lives in the container), finishes at once after.
const SCRIPT: &str = "#!/bin/sh\nif [ -f /root/first-run ]; then echo 'resumed run'; exit 0; fi\ntouch /root/first-run\necho 'first run: working'\nsleep 600\n";

/// How long systemd waits before starting the worker again (`RestartSec=` in the unit).
const RESTART_AFTER: Duration = Duration::from_secs(2);

const TARGET: Duration = Duration::from_secs(10);

pub async fn run(report: &mut Report, env: &Env, rounds: usize) -> anyhow::Result<()> {
    eprintln!("==> takeover latency: SIGKILL mid-script, restart after 2 s, {rounds} rounds");
    let (sim, secrets, token_secret) = simulator(env).await?;
    let measured = measure(env, &sim, &secrets, &token_secret, rounds).await;
    sim.shutdown().await;
    let samples = Samples::new(measured?);
    let max = samples.max();
    report.add(
        "takeover latency (worker killed -> job resumed)",
        format!(
            "{} kills of the worker binary mid-script (SIGKILL), restarted after {} s as systemd does; lease {} s renewed every {} s, takeover scan every {} s; from the kill to the restarted worker's takeover event",
            samples.len(),
            RESTART_AFTER.as_secs(),
            backend::queue::LEASE_TTL.as_secs(),
            backend::queue::LEASE_TTL.as_secs() / 4,
            backend::queue::SCAN_EVERY.as_secs(),
        ),
        format!(
            "p50 {}, max {}",
            ms(samples.percentile(50.0)),
            ms(max)
        ),
        format!("<= {} s", TARGET.as_secs()),
        Verdict::of(max <= TARGET),
    );
    Ok(())
}

async fn measure(
    env: &Env,
    sim: &SimHandle,
    secrets: &SecretBox,
    token_secret: &str,
    rounds: usize,
) -> anyhow::Result<Vec<Duration>> {
    let db = backend::db::pool(&env.database_url, 2)?;
    let namespace = format!("bench-takeover-{}", uuid::Uuid::new_v4().simple());
    let redis = backend::redis::connect(&env.redis_url).await?;
    let queue = Queue::with_keys(redis, QueueKeys::namespaced(&namespace));
    let spawn = |round: usize| {
        let mut command = env.worker_command(&namespace);
        command
            .env("INFRAHAUS_WORKER_CONCURRENCY", "1")
            .env("INFRAHAUS_CONTAINER_SSH_PORT", sim.ssh_port.to_string());
        Proc::spawn(env, &format!("takeover-worker-{round}"), command)
    };
    let mut worker = spawn(0)?;
    let mut samples = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let vmid = 300 + u32::try_from(round)?;
        let id = insert_container(&db, sim, secrets, token_secret, SCRIPT, vmid).await?;
        queue.enqueue(&Job { container_id: id }).await?;
        wait_for_event(&db, id, &mut worker, "first run: working").await?;
        let killed_at = chrono::Utc::now();
        worker.stop().await;
        tokio::time::sleep(RESTART_AFTER).await;
        worker = spawn(round + 1)?;
        let resumed =
            wait_for_event(&db, id, &mut worker, "The worker stopped; resuming from").await?;
        samples.push((resumed - killed_at).to_std().unwrap_or_default());
        wait_ready(&db, id, &mut worker).await?;
    }
    worker.stop().await;
    Ok(samples)
}

/// When the first event starting with `prefix` was written.
async fn wait_for_event(
    db: &DbPool,
    id: ContainerId,
    worker: &mut Proc,
    prefix: &str,
) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    let limit = Instant::now() + Duration::from_secs(120);
    loop {
        worker.check_running()?;
        let events = EventRow::list_after(&mut *db.get().await?, id, 0, 100_000).await?;
        if let Some(event) = events.iter().find(|e| e.message.starts_with(prefix)) {
            return Ok(event.at);
        }
        if Instant::now() > limit {
            bail!("no event {prefix:?} within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_ready(db: &DbPool, id: ContainerId, worker: &mut Proc) -> anyhow::Result<()> {
    let limit = Instant::now() + Duration::from_secs(120);
    loop {
        worker.check_running()?;
        let row = ContainerRow::find(&mut *db.get().await?, id).await?;
        match row.lifecycle {
            Lifecycle::Ready => return Ok(()),
            Lifecycle::Error => bail!("the job failed: {:?}", row.error_message),
            Lifecycle::Creating | Lifecycle::Updating if Instant::now() > limit => {
                bail!("not ready within 120 s")
            }
            Lifecycle::Creating | Lifecycle::Updating => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
        }
    }
}
