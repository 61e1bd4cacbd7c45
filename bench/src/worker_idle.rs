//! Idle resident memory of the `worker` binary, in its own process.

use crate::procs::{Env, Proc};
use crate::report::{Report, Verdict, mb_from_kib};
use std::time::Duration;

pub async fn run(report: &mut Report, env: &Env) -> anyhow::Result<()> {
    eprintln!("==> worker process: idle memory");
    let namespace = format!("bench-idle-{}", uuid::Uuid::new_v4().simple());
    let mut worker = Proc::spawn(env, "worker", env.worker_command(&namespace))?;
    // Start-up connects to PostgreSQL and Redis and runs migrations; give it time, then wait
    // for its memory to settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = worker.settled_rss_kib(Duration::from_secs(15)).await?;
    worker.check_running()?;
    report.add(
        "idle resident memory: worker",
        "release binary `worker`, default concurrency, an empty queue, after start-up, VmRSS",
        mb_from_kib(idle),
        "<= 15 MB",
        Verdict::of(idle * 1024 <= 15_000_000),
    );
    worker.stop().await;
    Ok(())
}
