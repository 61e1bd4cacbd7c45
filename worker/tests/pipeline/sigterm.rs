//! The worker binary: SIGTERM mid-job lets the running script reach its checkpoint, exits 0,
//! and the job is finished later by another worker; `print-deploy-key` prints the key.

use std::process::Stdio;
use std::time::Duration;

use domain::container::Lifecycle;
use domain::event::EventKind;
use domain::spec::Ipv4Setup;
use worker::pipeline::checkpoint::Checkpoint;

use crate::common::*;

pub(crate) fn worker_command(world: &World) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_worker"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &world.database_url)
        .env("REDIS_URL", testkit::redis_url())
        .env("INFRAHAUS_SECRET_KEY_FILE", world.path("secret.key"))
        .env(
            "INFRAHAUS_WORKER_DEPLOY_KEY_FILE",
            world.path("deploy_ed25519"),
        )
        .env("INFRAHAUS_WORKER_CONCURRENCY", "1")
        .env("INFRAHAUS_WORKER_SHUTDOWN_SECS", "60")
        .env("INFRAHAUS_WORKER_LEASE_SECS", "2")
        .env(
            "INFRAHAUS_CONTAINER_SSH_PORT",
            world.sim.ssh_port.to_string(),
        )
        .env("INFRAHAUS_QUEUE_NAMESPACE", &world.namespace)
        .env("RUST_LOG", "info")
        .kill_on_drop(true);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_script_exits_cleanly_and_the_job_resumes_later() {
    let world = World::start(WorldOptions::default()).await;
    let mut spec = bare_spec(
        world.node_id,
        150,
        Ipv4Setup::Static {
            cidr: static_cidr(),
            gateway: None,
        },
    );
    spec.scripts = vec![
        script("10-first.sh", "#!/bin/sh\necho 'first script ran'\n"),
        script(
            "20-slow.sh",
            "#!/bin/sh\necho 'slow script started'\nsleep 3\necho 'slow script done'\n",
        ),
        script("30-last.sh", "#!/bin/sh\necho 'last script ran'\n"),
    ];
    let id = world.create(&spec).await;
    let log = std::fs::File::create(world.path("worker.log")).unwrap();
    let mut child = worker_command(&world)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the worker binary starts");
    world
        .wait_until(id, |_, events| {
            events.iter().any(|e| e.message == "slow script started")
        })
        .await;
    let pid = child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(120), child.wait())
        .await
        .expect("the worker exits after SIGTERM")
        .unwrap();
    let worker_log = std::fs::read_to_string(world.path("worker.log")).unwrap_or_default();
    assert!(status.success(), "exit status {status}; log:\n{worker_log}");

    // It stopped after the running script's checkpoint, before the next script.
    let row = world.row(id).await;
    let transcript = world.transcript(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Creating, "{transcript}");
    assert_eq!(
        Checkpoint::from_json(&row.checkpoint).scripts_done,
        2,
        "{transcript}"
    );
    assert!(transcript.contains("slow script done"), "{transcript}");
    assert!(
        transcript.contains("This worker is shutting down"),
        "{transcript}"
    );
    assert!(!transcript.contains("last script ran"), "{transcript}");

    // A new worker takes the job over and finishes it without running the scripts again.
    let second = world.runner(world.settings(), Duration::from_secs(2)).await;
    let row = world.wait_finished(id).await;
    let transcript = world.transcript(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    let events = world.events(id).await;
    let slow_runs = events
        .iter()
        .filter(|e| {
            e.kind == EventKind::Step && e.script.as_ref().is_some_and(|s| s.name == "20-slow.sh")
        })
        .count();
    assert_eq!(slow_runs, 1, "{transcript}");
    for pair in events.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1, "{transcript}");
        assert!(pair[1].percent >= pair[0].percent, "{transcript}");
    }
    assert!(transcript.contains("last script ran"), "{transcript}");
    assert_eq!(world.create_tasks(150).await, 1);
    second.stop().await;
}

#[tokio::test]
async fn print_deploy_key_prints_the_public_key_and_creates_the_pair_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys/deploy_ed25519");
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_worker"))
            .arg("print-deploy-key")
            .env("INFRAHAUS_WORKER_DEPLOY_KEY_FILE", &path)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success());
    let line = String::from_utf8(first.stdout).unwrap();
    assert!(line.starts_with("ssh-ed25519 AAAA"), "{line}");
    let key = remote_shell::DeployKey::load_or_create(&path).unwrap();
    assert_eq!(line.trim(), key.public_openssh());
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "readable by the worker's user only");
    assert_eq!(
        String::from_utf8(run().stdout).unwrap(),
        line,
        "the same key"
    );
}
