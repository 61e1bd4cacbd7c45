//! Cancelling a creation: queued (taken off the queue at once), while scripts run (the worker
//! stops at the next checkpoint and stops the container), and after its worker died (whoever
//! takes it over honours it). Retry and Delete work from there.

use std::time::Duration;

use backend::services::cancel::{cancel, worker_state};
use domain::container::{CancelReply, Lifecycle, WorkerState};
use domain::spec::Ipv4Setup;
use pve_client::lxc::GuestState;

use crate::common::*;

fn slow_spec(world: &World, vmid: u32) -> domain::spec::ContainerDraft {
    let mut spec = bare_spec(
        world.node_id,
        vmid,
        Ipv4Setup::Static {
            cidr: static_cidr(),
            gateway: None,
        },
    );
    spec.scripts = vec![
        script(
            "10-slow.sh",
            "#!/bin/sh\necho 'slow script started'\nsleep 3\necho 'slow script done'\n",
        ),
        script("20-next.sh", "#!/bin/sh\necho 'next script ran'\n"),
    ];
    spec
}

/// Presses Retry and waits until the container is ready, created once.
async fn retry_until_ready(world: &World, id: domain::ContainerId, vmid: u32) {
    backend::services::containers::retry(&world.db, &world.redis, &world.queue, id)
        .await
        .unwrap();
    let row = world.wait_finished(id).await;
    let transcript = world.transcript(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    assert_eq!(world.create_tasks(vmid).await, 1, "{transcript}");
}

async fn status(world: &World, vmid: u32) -> GuestState {
    world
        .pve()
        .await
        .lxc_status("pve", vmid)
        .await
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_creation_is_cancelled_at_once_and_can_be_retried() {
    let world = World::start(WorldOptions::default()).await;
    let id = world.create(&slow_spec(&world, 170)).await;
    assert_eq!(
        worker_state(&world.queue, id).await.unwrap(),
        WorkerState::Waiting
    );
    let reply = cancel(&world.db, &world.redis, &world.queue, id)
        .await
        .unwrap();
    assert_eq!(reply, CancelReply::Cancelled);
    let row = world.row(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Error);
    assert_eq!(
        row.error_message.as_deref(),
        Some("Cancelled before it was created.")
    );
    assert_eq!(
        worker_state(&world.queue, id).await.unwrap(),
        WorkerState::Idle
    );
    // A worker that starts now finds nothing to do; Retry queues the creation again.
    let worker = world.default_runner().await;
    retry_until_ready(&world, id, 170).await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_cancelled_while_a_script_runs_stops_at_the_next_checkpoint() {
    let world = World::start(WorldOptions::default()).await;
    let worker = world.default_runner().await;
    let id = world.create(&slow_spec(&world, 171)).await;
    world
        .wait_until(id, |_, events| {
            events.iter().any(|e| e.message == "slow script started")
        })
        .await;
    assert_eq!(
        worker_state(&world.queue, id).await.unwrap(),
        WorkerState::Working
    );
    let reply = cancel(&world.db, &world.redis, &world.queue, id)
        .await
        .unwrap();
    assert_eq!(reply, CancelReply::Requested);
    let row = world.wait_finished(id).await;
    let transcript = world.transcript(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Error, "{transcript}");
    assert_eq!(
        row.error_message.as_deref(),
        Some("Cancelled; container 171 exists on node pve, stopped."),
        "{transcript}"
    );
    assert!(transcript.contains("slow script done"), "{transcript}");
    assert!(!transcript.contains("next script ran"), "{transcript}");
    assert_eq!(status(&world, 171).await, GuestState::Stopped);
    // Delete works from there.
    let actor = backend::audit::Actor::without_account("test");
    let destroyed = backend::services::containers::delete(&world.db, &world.secrets, id, &actor)
        .await
        .unwrap();
    assert!(destroyed);
    assert_eq!(world.containers_with(171).await, 0);
    let report = worker.stop().await;
    assert_eq!(report.done, 1, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_of_a_dead_workers_job_is_honoured_by_the_worker_that_takes_it_over() {
    let world = World::start(WorldOptions::default()).await;
    let lease = Duration::from_secs(1);
    let first = world.runner(world.settings(), lease).await;
    let id = world.create(&slow_spec(&world, 172)).await;
    world
        .wait_until(id, |_, events| {
            events.iter().any(|e| e.message == "slow script started")
        })
        .await;
    first.handle.abort();
    let _ = first.handle.await;
    let reply = cancel(&world.db, &world.redis, &world.queue, id)
        .await
        .unwrap();
    assert_eq!(reply, CancelReply::Requested);
    let second = world.runner(world.settings(), lease).await;
    let row = world.wait_finished(id).await;
    let transcript = world.transcript(id).await;
    assert_eq!(
        row.error_message.as_deref(),
        Some("Cancelled; container 172 exists on node pve, stopped."),
        "{transcript}"
    );
    assert!(
        transcript.contains("The worker stopped; resuming from Sync"),
        "{transcript}"
    );
    assert!(!transcript.contains("next script ran"), "{transcript}");
    assert_eq!(status(&world, 172).await, GuestState::Stopped);
    // Retry resumes after the last finished step and ends ready.
    retry_until_ready(&world, id, 172).await;
    second.stop().await;
}
