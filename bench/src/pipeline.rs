//! A script printing 100,000 lines through the whole pipeline: the `worker` binary creates a
//! container on the Proxmox simulator, runs the script over SSH and stores its output as
//! progress events. Compared with the same script run alone, with the events stored and the
//! database rows written.

use crate::procs::{Env, Proc, connections_to};
use crate::report::{Report, Verdict, mb_from_kib};
use anyhow::{Context, bail};
use backend::crypto::{Purpose, SecretBox};
use backend::db::DbPool;
use backend::models::event::EventRow;
use backend::models::{ContainerRow, NewContainer, NewNode, NodeRow};
use backend::queue::{Job, Queue, QueueKeys};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use domain::ContainerId;
use domain::container::Lifecycle;
use domain::event::EventKind;
use domain::spec::{ContainerDraft, Ipv4Setup};
use domain::template::Script;
use pvesim::{SimConfig, SimHandle, Simulator};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

const TOKEN_ID: &str = "root@pam!bench";
const DEBIAN: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

/// Write counters of the benchmark database.
#[derive(Clone, Copy, Debug, QueryableByName)]
struct DbWrites {
    #[diesel(sql_type = BigInt)]
    inserted: i64,
    #[diesel(sql_type = BigInt)]
    updated: i64,
    #[diesel(sql_type = BigInt)]
    deleted: i64,
}

async fn db_writes(db: &DbPool) -> anyhow::Result<DbWrites> {
    let mut conn = db.get().await?;
    Ok(diesel::sql_query(
        "SELECT tup_inserted AS inserted, tup_updated AS updated, tup_deleted AS deleted \
         FROM pg_stat_database WHERE datname = current_database()",
    )
    .get_result(&mut conn)
    .await?)
}

pub async fn run(report: &mut Report, env: &Env, lines: u64) -> anyhow::Result<()> {
    eprintln!("==> a script printing {lines} lines through the whole pipeline");
    let script = format!("#!/bin/sh\nseq -f 'build output line %g' 1 {lines}\n");
    let alone = run_alone(&script, lines).await?;

    let (sim, secrets, token_secret) = simulator(env).await?;
    let measured = through_pipeline(env, &sim, &secrets, &token_secret, &script).await;
    sim.shutdown().await;
    let run = measured?;

    let ratio = run.script.as_secs_f64() / alone.as_secs_f64();
    report.add(
        format!("{lines}-line script through the whole pipeline"),
        format!(
            "`seq` printing {lines} lines as a template script; worker binary (concurrency 1) -> simulator container over SSH -> event sink -> PostgreSQL + PUBLISH; alone: the same script under sh here, output read through a pipe"
        ),
        format!(
            "script step {:.2} s vs alone {:.2} s ({ratio:.1}x); whole job enqueue -> ready {:.1} s",
            run.script.as_secs_f64(),
            alone.as_secs_f64(),
            run.total.as_secs_f64()
        ),
        "",
        Verdict::Info,
    );
    report.add(
        "events stored and rows written for that job",
        "container_events rows of the job; pg_stat_database counters of the benchmark database around the job (worker stopped before reading)",
        format!(
            "{} events ({} log lines kept of {lines}, per-container log limit{}); {} rows inserted, {} updated, {} deleted",
            run.events,
            run.log_lines,
            if run.truncated { ", truncation noted" } else { "" },
            run.writes.inserted,
            run.writes.updated,
            run.writes.deleted,
        ),
        "",
        Verdict::Info,
    );
    report.add(
        "worker peak resident memory during that job",
        "VmRSS of the worker process, sampled every 50 ms",
        mb_from_kib(run.worker_peak_kib),
        "",
        Verdict::Info,
    );
    Ok(())
}

/// The simulator trusting the worker's node key, the secret key file, and the API token's
/// secret.
pub(crate) async fn simulator(env: &Env) -> anyhow::Result<(SimHandle, SecretBox, String)> {
    let deploy_key = remote_shell::DeployKey::load_or_create(&env.deploy_key_file())?;
    let secrets = SecretBox::load_or_create(&env.secret_key_file())?;
    let token_secret = uuid::Uuid::new_v4().to_string();
    let sim = Simulator::start(
        SimConfig::builder()
            .token(TOKEN_ID, &token_secret)
            .node_ssh_authorized_key(deploy_key.public_openssh())
            .build(),
    )
    .await
    .context("the Proxmox simulator did not start (is bubblewrap installed?)")?;
    Ok((sim, secrets, token_secret))
}

/// The script under `sh` on this machine, its output read line by line.
async fn run_alone(script: &str, lines: u64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut output = tokio::io::BufReader::new(child.stdout.take().context("no stdout")?).lines();
    let mut read = 0;
    while output.next_line().await?.is_some() {
        read += 1;
    }
    let status = child.wait().await?;
    let elapsed = started.elapsed();
    if !status.success() || read != lines {
        bail!("the script alone printed {read} lines and exited {status}");
    }
    Ok(elapsed)
}

struct PipelineRun {
    /// From the script's step event to the next step.
    script: Duration,
    /// From enqueue to the container being ready.
    total: Duration,
    events: usize,
    log_lines: usize,
    truncated: bool,
    writes: DbWrites,
    worker_peak_kib: u64,
}

async fn through_pipeline(
    env: &Env,
    sim: &SimHandle,
    secrets: &SecretBox,
    token_secret: &str,
    script: &str,
) -> anyhow::Result<PipelineRun> {
    let db = backend::db::pool(&env.database_url, 2)?;
    let container = insert_container(&db, sim, secrets, token_secret, script, 200).await?;
    let namespace = format!("bench-pipeline-{}", uuid::Uuid::new_v4().simple());
    let mut command = env.worker_command(&namespace);
    command
        .env("INFRAHAUS_WORKER_CONCURRENCY", "1")
        .env("INFRAHAUS_CONTAINER_SSH_PORT", sim.ssh_port.to_string());
    let mut worker = Proc::spawn(env, "pipeline-worker", command)?;
    // Ready once it holds its two Redis connections (the shared one and the reader's).
    let ready_by = Instant::now() + Duration::from_secs(60);
    while connections_to(worker.pid()?, env.redis_port()?)?.len() < 2 {
        worker.check_running()?;
        if Instant::now() > ready_by {
            bail!("the worker did not connect to Redis within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let before = db_writes(&db).await?;
    let redis = backend::redis::connect(&env.redis_url).await?;
    let queue = Queue::with_keys(redis, QueueKeys::namespaced(&namespace));
    let started = Instant::now();
    queue
        .enqueue(&Job {
            container_id: container,
        })
        .await?;
    let mut peak = 0;
    let limit = Instant::now() + Duration::from_secs(900);
    let row = loop {
        peak = peak.max(worker.rss_kib()?);
        let row = ContainerRow::find(&mut *db.get().await?, container).await?;
        if row.lifecycle != Lifecycle::Creating {
            break row;
        }
        if Instant::now() > limit {
            bail!("the job did not finish within 900 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let total = started.elapsed();
    // Its database sessions end with it, which flushes their statistics.
    worker.stop().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = db_writes(&db).await?;
    if row.lifecycle != Lifecycle::Ready {
        bail!(
            "the job ended {}: {}",
            row.lifecycle,
            row.error_message.unwrap_or_default()
        );
    }

    let events = EventRow::list_after(&mut *db.get().await?, container, 0, 10_000_000).await?;
    let script_step = events
        .iter()
        .position(|e| e.kind == EventKind::Step && e.script.is_some())
        .context("no script step among the events")?;
    let next_step = events[script_step + 1..]
        .iter()
        .find(|e| e.kind != EventKind::Log)
        .context("no step after the script")?;
    let script = (next_step.at - events[script_step].at)
        .to_std()
        .unwrap_or_default();
    let log_lines = events
        .iter()
        .filter(|e| e.kind == EventKind::Log && e.message.starts_with("build output line "))
        .count();
    Ok(PipelineRun {
        script,
        total,
        events: events.len(),
        log_lines,
        truncated: events
            .iter()
            .any(|e| e.message.starts_with("Log truncated")),
        writes: DbWrites {
            inserted: after.inserted - before.inserted,
            updated: after.updated - before.updated,
            deleted: after.deleted - before.deleted,
        },
        worker_peak_kib: peak,
    })
}

/// The node (the simulator) and a container row with the script, as the wizard stores them.
pub(crate) async fn insert_container(
    db: &DbPool,
    sim: &SimHandle,
    secrets: &SecretBox,
    token_secret: &str,
    script: &str,
    vmid: u32,
) -> anyhow::Result<ContainerId> {
    let mut conn = db.get().await?;
    let node = NodeRow::insert(
        &mut conn,
        &NewNode {
            name: format!("bench-sim-{}", uuid::Uuid::new_v4().simple()),
            host: "127.0.0.1".into(),
            port: i32::from(sim.api_addr.port()),
            token_id: TOKEN_ID.into(),
            token_secret_enc: Some(secrets.seal_str(Purpose::NodeTokenSecret, token_secret)),
            tls_fingerprint: Some(sim.fingerprint.clone()),
            ssh_port: i32::from(
                sim.node_ssh_addr
                    .context("the simulator has no node SSH")?
                    .port(),
            ),
        },
    )
    .await?;
    let address = uuid::Uuid::new_v4().into_bytes();
    let spec = ContainerDraft {
        node_id: node.id,
        template_name: Some("bench".into()),
        hostname: format!("bench-{vmid}"),
        vmid,
        storage: "local-lvm".into(),
        os_template: DEBIAN.into(),
        bridge: "vmbr0".into(),
        // A loopback address the simulator serves the container's sshd on.
        ipv4: Ipv4Setup::Static {
            cidr: format!(
                "127.{}.{}.{}/24",
                200 + address[0] % 50,
                address[1],
                2 + address[2] % 250
            ),
            gateway: None,
        },
        scripts: vec![Script {
            name: "10-output.sh".into(),
            description: "prints many lines".into(),
            content: script.into(),
            enabled: true,
        }],
        ..ContainerDraft::default()
    }
    .validated()
    .map_err(|e| anyhow::anyhow!("the bench spec is invalid: {e}"))?;
    let id = ContainerId::new_random();
    ContainerRow::insert(
        &mut conn,
        &NewContainer {
            id,
            node_id: node.id,
            template_id: None,
            vmid: spec.vmid,
            hostname: spec.hostname.clone(),
            lifecycle: Lifecycle::Creating,
            config: serde_json::to_value(&spec)?,
            root_password_enc: Some(secrets.seal_str(Purpose::RootPassword, "Bench-Root-Pw-1")),
            created_by: None,
        },
    )
    .await?;
    Ok(id)
}
