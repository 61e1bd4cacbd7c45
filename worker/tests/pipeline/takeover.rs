//! A worker that dies mid-script: another one takes the job over once its lease lapses,
//! resumes after the last finished script, and the container is created once. A worker that
//! lives keeps its job however long a phase runs.

use std::time::Duration;

use domain::container::Lifecycle;
use domain::event::EventKind;
use domain::spec::Ipv4Setup;
use worker::pipeline::checkpoint::Checkpoint;

use crate::common::*;

/// Sleeps on its first run (the marker lives in the container), finishes at once after.
const SLOW: &str = "#!/bin/sh
set -eu
if [ -f /root/slow-started ]; then
    echo 'second run: finishing'
    exit 0
fi
touch /root/slow-started
echo 'first run: sleeping'
sleep 60
";

fn script_steps(events: &[domain::event::ProgressEvent], name: &str) -> usize {
    events
        .iter()
        .filter(|e| e.kind == EventKind::Step && e.script.as_ref().is_some_and(|s| s.name == name))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_script_is_taken_over_and_the_container_ends_ready() {
    let world = World::start(WorldOptions::default()).await;
    let lease = Duration::from_secs(2);
    let mut spec = bare_spec(
        world.node_id,
        140,
        Ipv4Setup::Static {
            cidr: static_cidr(),
            gateway: None,
        },
    );
    spec.scripts = vec![
        script("10-first.sh", "#!/bin/sh\necho 'first script ran'\n"),
        script("20-slow.sh", SLOW),
        script("30-last.sh", "#!/bin/sh\necho 'last script ran'\n"),
    ];
    let first = world.runner(world.settings(), lease).await;
    let id = world.create(&spec).await;
    world
        .wait_until(id, |_, events| {
            events.iter().any(|e| e.message == "first run: sleeping")
        })
        .await;
    // The worker process dies: its tasks, SSH sessions and heartbeats stop at once.
    first.handle.abort();
    assert!(first.handle.await.unwrap_err().is_cancelled());
    let row = world.row(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Creating);
    assert_eq!(Checkpoint::from_json(&row.checkpoint).scripts_done, 1);

    let second = world.runner(world.settings(), lease).await;
    let row = world.wait_finished(id).await;
    let transcript = world.transcript(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    let events = world.events(id).await;
    assert_eq!(script_steps(&events, "10-first.sh"), 1, "{transcript}");
    assert_eq!(script_steps(&events, "20-slow.sh"), 2, "{transcript}");
    assert_eq!(script_steps(&events, "30-last.sh"), 1, "{transcript}");
    assert!(transcript.contains("second run: finishing"), "{transcript}");
    assert!(
        transcript.contains("The worker stopped; resuming from Sync (script 2)."),
        "{transcript}"
    );
    for pair in events.windows(2) {
        assert_eq!(
            pair[1].seq,
            pair[0].seq + 1,
            "no gap or duplicate: {transcript}"
        );
        assert!(pair[1].percent >= pair[0].percent, "{transcript}");
    }
    assert_eq!(world.create_tasks(140).await, 1, "created once");
    assert_eq!(world.containers_with(140).await, 1);
    let report = second.stop().await;
    assert_eq!(report.done, 1, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_workers_keep_dying_ends_in_error() {
    let world = World::start(WorldOptions::default()).await;
    let lease = Duration::from_secs(1);
    let mut spec = bare_spec(
        world.node_id,
        141,
        Ipv4Setup::Static {
            cidr: static_cidr(),
            gateway: None,
        },
    );
    spec.scripts = vec![script("10-hang.sh", "#!/bin/sh\necho hanging\nsleep 60\n")];
    let id = world.create(&spec).await;
    // Each worker dies once the script runs. The first attempt moved the job forward (it got as
    // far as the script); after MAX_DELIVERIES attempts in a row that did not, the next gives up.
    for attempt in 1..=backend::queue::MAX_DELIVERIES + 1 {
        let runner = world.runner(world.settings(), lease).await;
        let wanted = usize::try_from(attempt).unwrap();
        world
            .wait_until(id, |_, events| {
                events.iter().filter(|e| e.message == "hanging").count() >= wanted
            })
            .await;
        runner.handle.abort();
        let _ = runner.handle.await;
    }
    let last = world.runner(world.settings(), lease).await;
    let row = world.wait_finished(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Error);
    let message = row.error_message.unwrap();
    assert!(
        message.starts_with(&format!(
            "Gave up after {} attempts",
            backend::queue::MAX_DELIVERIES
        )),
        "{message}"
    );
    assert_eq!(world.create_tasks(141).await, 1);
    last.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_died_after_the_last_checkpoint_still_ends_ready() {
    let world = World::start(WorldOptions::default()).await;
    let spec = bare_spec(
        world.node_id,
        142,
        Ipv4Setup::Static {
            cidr: static_cidr(),
            gateway: None,
        },
    );
    let id = world.insert(&spec).await;
    {
        let mut conn = world.db.get().await.unwrap();
        let done = Checkpoint {
            done: Some(domain::container::Phase::Finalize),
            config_synced: true,
            packages_done: true,
            scripts_done: 0,
            advanced_in: 1,
        };
        backend::models::ContainerRow::set_checkpoint(&mut conn, id, &done.to_json())
            .await
            .unwrap();
    }
    world.enqueue(id).await;
    let worker = world
        .runner(world.settings(), Duration::from_secs(30))
        .await;
    let row = world.wait_finished(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Ready);
    let events = world.events(id).await;
    assert_eq!(events.last().unwrap().kind, EventKind::Complete);
    assert_eq!(world.create_tasks(142).await, 0, "nothing is redone");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phase_longer_than_the_lease_stays_with_its_live_worker() {
    let world = World::start(WorldOptions::default()).await;
    // A 1 s lease and a script of 5 s: another worker scans every second the whole time.
    let lease = Duration::from_secs(1);
    let mut spec = bare_spec(
        world.node_id,
        143,
        Ipv4Setup::Static {
            cidr: static_cidr(),
            gateway: None,
        },
    );
    spec.scripts = vec![script(
        "10-long.sh",
        "#!/bin/sh\necho 'long script started'\nsleep 5\necho 'long script done'\n",
    )];
    let first = world.runner(world.settings(), lease).await;
    let id = world.create(&spec).await;
    world
        .wait_until(id, |_, events| {
            events.iter().any(|e| e.message == "long script started")
        })
        .await;
    let second = world.runner(world.settings(), lease).await;
    let row = world.wait_finished(id).await;
    let transcript = world.transcript(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    assert!(!transcript.contains("The worker stopped"), "{transcript}");
    assert_eq!(script_steps(&world.events(id).await, "10-long.sh"), 1);
    let (first, second) = (first.stop().await, second.stop().await);
    assert_eq!((first.done, second.done), (1, 0), "{first:?} {second:?}");
    assert_eq!(world.create_tasks(143).await, 1);
}
