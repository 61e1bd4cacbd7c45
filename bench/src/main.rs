//! `bench`: measures the figures users and operators care about (queue latency and throughput,
//! progress-stream latency and memory, replay, the whole pipeline, idle memory, app size) against
//! real PostgreSQL, Redis and the release binaries, and prints one table.
//!
//! `scripts/bench.sh` starts private services on loopback, builds what is needed and runs this.
//! Nothing here is a test: figures that miss their target are reported, not failed.
//!
//! # Layout
//! - [`report`]: the table, percentiles and units.
//! - [`procs`]: the release binaries as processes, their memory and Redis connections.
//! - [`fixtures`]: users, sessions, containers and stored events.
//! - [`sse`]: a raw-socket progress-stream client.
//! - [`machine`]: how quiet the cores are before anything is timed.
//! - [`pickup`], [`jobs`], [`streams`], [`pipeline`], [`takeover`], [`worker_idle`],
//!   [`appsize`]: one section each.

mod appsize;
mod fixtures;
mod jobs;
mod machine;
mod pickup;
mod pipeline;
mod procs;
mod report;
mod sse;
mod streams;
mod takeover;
mod worker_idle;

use clap::{Parser, ValueEnum};
use procs::{Env, require_binary};
use report::Report;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "bench", about = "Measure infrahaus and print one table")]
struct Args {
    /// A database the benchmark may fill (migrations are applied).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// A Redis the benchmark may use.
    #[arg(long, env = "REDIS_URL")]
    redis_url: String,
    /// Where the release binaries `server` and `worker` are.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// The built web app (Trunk's `dist/`).
    #[arg(long, default_value = "dist")]
    site_root: PathBuf,
    /// Scratch folder for logs and the key file.
    #[arg(long, env = "BENCH_WORK_DIR")]
    work_dir: PathBuf,
    /// Sections to run (all by default).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
    /// Sequential jobs timed for pickup latency.
    #[arg(long, default_value_t = 2_000)]
    pickup_jobs: usize,
    /// No-op jobs timed for throughput.
    #[arg(long, default_value_t = 20_000)]
    noop_jobs: usize,
    /// The runner's concurrency for no-op jobs.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// Lines the pipeline's script prints.
    #[arg(long, default_value_t = 100_000)]
    script_lines: u64,
    /// Idle progress streams held open for the memory figure.
    #[arg(long, default_value_t = 10_000)]
    idle_streams: usize,
    /// Idle streams following each container (1: every stream has its own Redis channel).
    #[arg(long, default_value_t = 1)]
    streams_per_container: usize,
    /// Open streams for each publish -> frame latency row.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 100, 1_000])]
    latency_streams: Vec<usize>,
    /// Events published for each latency row (by default 1,000 with one stream, 200 with up to
    /// 100, 100 with more).
    #[arg(long)]
    latency_rounds: Option<i64>,
    /// Stored events a reconnecting stream replays.
    #[arg(long, default_value_t = 10_000)]
    replay_events: i64,
    /// Times the worker is killed for the takeover latency.
    #[arg(long, default_value_t = 5)]
    takeover_rounds: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Section {
    Pickup,
    Jobs,
    Streams,
    Pipeline,
    Takeover,
    Worker,
    AppSize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // reqwest is built without a TLS provider of its own: its clients need the default one.
    backend::pve::tls::install_default_provider();
    let args = Args::parse();
    let env = Env {
        database_url: args.database_url.clone(),
        redis_url: args.redis_url.clone(),
        bin_dir: args.bin_dir.clone(),
        site_root: args.site_root.clone(),
        work_dir: args.work_dir.clone(),
    };
    std::fs::create_dir_all(&env.work_dir)?;
    let runs = |section| args.only.is_empty() || args.only.contains(&section);
    let mut report = Report::default();

    if runs(Section::Streams)
        || runs(Section::Worker)
        || runs(Section::Pipeline)
        || runs(Section::Takeover)
    {
        require_binary(&env.bin("server"))?;
        require_binary(&env.bin("worker"))?;
        backend::db::run_migrations(&env.database_url).await?;
    }
    if runs(Section::Pickup)
        || runs(Section::Jobs)
        || runs(Section::Streams)
        || runs(Section::Takeover)
    {
        // Blocks this thread on purpose: nothing else may run while it measures.
        machine::run(&mut report, std::time::Duration::from_secs(5));
    }
    if runs(Section::Pickup) {
        let result = pickup::run(&mut report, &env.redis_url, args.pickup_jobs).await;
        record(&mut report, "enqueue -> worker pickup latency", result);
    }
    if runs(Section::Jobs) {
        let result = jobs::run(
            &mut report,
            &env.redis_url,
            args.noop_jobs,
            args.concurrency,
        )
        .await;
        record(&mut report, "no-op jobs per second", result);
    }
    if runs(Section::Streams) {
        let params = streams::StreamParams {
            idle_streams: args.idle_streams,
            streams_per_container: args.streams_per_container.max(1),
            latency_streams: args.latency_streams.clone(),
            latency_rounds: args.latency_rounds,
            replay_events: args.replay_events,
            replay_runs: 20,
        };
        let result = streams::run(&mut report, &env, &params).await;
        record(&mut report, "progress streams (server process)", result);
    }
    if runs(Section::Pipeline) {
        let result = pipeline::run(&mut report, &env, args.script_lines).await;
        record(&mut report, "script through the whole pipeline", result);
    }
    if runs(Section::Takeover) {
        let result = takeover::run(&mut report, &env, args.takeover_rounds).await;
        record(&mut report, "takeover latency", result);
    }
    if runs(Section::Worker) {
        let result = worker_idle::run(&mut report, &env).await;
        record(&mut report, "idle resident memory: worker", result);
    }
    if runs(Section::AppSize) {
        let result = appsize::run(&mut report, &env.site_root);
        record(&mut report, "app size", result);
    }

    println!();
    print!("{}", report.to_markdown());
    if !report.all_met() {
        eprintln!("some figures missed their target or were not measured (see the table)");
    }
    if report.has_failures() {
        anyhow::bail!("some sections failed (see the table)");
    }
    Ok(())
}

/// A section that failed keeps its place in the table, with the reason.
fn record(report: &mut Report, section: &str, result: anyhow::Result<()>) {
    if let Err(e) = result {
        eprintln!("{section} failed: {e:#}");
        report.not_measured(section, "", "", format!("failed: {e:#}"));
    }
}
