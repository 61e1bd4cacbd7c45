//! The worker binary killed with SIGKILL again and again while several creations run: each
//! restarted worker takes the dead one's jobs over once its lease lapses, and every container
//! ends ready, created once. Each kill lands in the middle of a phase, after every job the
//! worker held moved forward: a worker that keeps being restarted for reasons of its own must
//! not fail jobs that progress (one that never gets past a step is given up, see `takeover`).

use std::process::Stdio;
use std::time::Duration;

use domain::ContainerId;
use domain::container::Lifecycle;
use domain::spec::Ipv4Setup;
use tokio::time::Instant;

use crate::common::*;
use crate::sigterm::worker_command;

const CREATIONS: u32 = 3;
const KILLS: usize = 8;

/// Three scripts of a second each, so kills land in the middle of phases.
fn spec(world: &World, n: u32) -> domain::spec::ContainerDraft {
    let mut spec = bare_spec(
        world.node_id,
        160 + n,
        Ipv4Setup::Static {
            cidr: static_cidr(),
            gateway: None,
        },
    );
    spec.hostname = format!("crash-{n}");
    spec.scripts = (1..=3)
        .map(|i| {
            script(
                &format!("{i}0-step.sh"),
                &format!("#!/bin/sh\necho 'step {i} started'\nsleep 1\necho 'step {i} done'\n"),
            )
        })
        .collect();
    spec
}

async fn all_finished(world: &World, ids: &[ContainerId]) -> bool {
    for id in ids {
        if world.row(*id).await.lifecycle == Lifecycle::Creating {
            return false;
        }
    }
    true
}

/// Each job's events and checkpoint, to see which ones a worker held and moved forward.
async fn snapshot(world: &World, ids: &[ContainerId]) -> Vec<(usize, serde_json::Value, bool)> {
    let mut out = Vec::new();
    for id in ids {
        let row = world.row(*id).await;
        out.push((
            world.events(*id).await.len(),
            row.checkpoint,
            row.lifecycle != Lifecycle::Creating,
        ));
    }
    out
}

/// True once the worker of this round holds jobs and each one it touched moved its checkpoint
/// forward (or finished).
fn every_held_job_advanced(
    before: &[(usize, serde_json::Value, bool)],
    now: &[(usize, serde_json::Value, bool)],
) -> bool {
    let mut held = 0;
    for (b, n) in before.iter().zip(now) {
        if b.2 || n.0 == b.0 {
            continue;
        }
        held += 1;
        if n.1 == b.1 && !n.2 {
            return false;
        }
    }
    held > 0
}

fn spawn_worker(world: &World, round: usize) -> tokio::process::Child {
    let log = std::fs::File::create(world.path(&format!("worker-{round}.log"))).unwrap();
    let mut cmd = worker_command(world);
    cmd.env("INFRAHAUS_WORKER_CONCURRENCY", "2")
        .env("INFRAHAUS_WORKER_LEASE_SECS", "3")
        .stdout(Stdio::null())
        .stderr(log);
    cmd.spawn().expect("the worker binary starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_again_and_again_every_container_ends_ready_and_created_once() {
    let world = World::start(WorldOptions::default()).await;
    let mut ids = Vec::new();
    for n in 0..CREATIONS {
        ids.push(world.create(&spec(&world, n)).await);
    }
    let mut kills = 0;
    let mut round = 0;
    let mut last_kill = Instant::now();
    while kills < KILLS {
        round += 1;
        let before = snapshot(&world, &ids).await;
        let mut child = spawn_worker(&world, round);
        let limit = Instant::now() + Duration::from_secs(60);
        while !every_held_job_advanced(&before, &snapshot(&world, &ids).await)
            && Instant::now() < limit
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if all_finished(&world, &ids).await {
            let _ = child.start_kill();
            let _ = child.wait().await;
            break;
        }
        // Into the next phase, a little later each round.
        tokio::time::sleep(Duration::from_millis(100 * (1 + round as u64 % 4))).await;
        child.start_kill().expect("SIGKILL");
        child.wait().await.unwrap();
        last_kill = Instant::now();
        kills += 1;
    }
    let mut last = spawn_worker(&world, round + 1);
    let deadline = last_kill + Duration::from_secs(40);
    while !all_finished(&world, &ids).await && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let finished_after = last_kill.elapsed();
    let _ = last.start_kill();
    let _ = last.wait().await;
    assert!(
        kills >= 5,
        "only {kills} kills landed before everything finished"
    );
    for (n, id) in ids.iter().enumerate() {
        let row = world.row(*id).await;
        let transcript = world.transcript(*id).await;
        assert_eq!(
            row.lifecycle,
            Lifecycle::Ready,
            "not ready {finished_after:?} after the last of {kills} kills:\n{transcript}"
        );
        let vmid = 160 + u32::try_from(n).unwrap();
        assert_eq!(
            world.create_tasks(vmid).await,
            1,
            "created once: {transcript}"
        );
        assert_eq!(world.containers_with(vmid).await, 1);
        let events = world.events(*id).await;
        for pair in events.windows(2) {
            assert_eq!(pair[1].seq, pair[0].seq + 1, "{transcript}");
        }
    }
    assert!(
        finished_after <= Duration::from_secs(40),
        "the rest took {finished_after:?} after the last kill"
    );
}
