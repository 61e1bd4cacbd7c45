//! A failure injected at each phase ends in `error` with a message a user can act on; Retry
//! resumes after the last checkpoint; the `pct` fallback when the container's sshd cannot be
//! reached.

use std::time::Duration;

use backend::models::ContainerRow;
use domain::container::{Lifecycle, Phase};
use domain::event::EventKind;
use domain::spec::Ipv4Setup;
use domain::template::{Package, PackageManager};
use pvesim::FaultsPatch;
use remote_shell::DeployKey;
use worker::pipeline::checkpoint::Checkpoint;

use crate::common::*;

fn static_ip() -> Ipv4Setup {
    Ipv4Setup::Static {
        cidr: static_cidr(),
        gateway: None,
    }
}

/// The row is in `error`, the last event is the `error` event with the same message.
async fn assert_failed(world: &World, id: domain::ContainerId) -> String {
    let row = world.wait_finished(id).await;
    let transcript = world.transcript(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Error, "{transcript}");
    let message = row.error_message.clone().expect("an error message");
    let events = world.events(id).await;
    let last = events.last().unwrap();
    assert_eq!(last.kind, EventKind::Error, "{transcript}");
    assert_eq!(last.message, message);
    assert!(!transcript.contains(ROOT_PASSWORD));
    message
}

/// The app's Retry: back to `creating`, queued again.
async fn retry(world: &World, id: domain::ContainerId) {
    let mut conn = world.db.get().await.unwrap();
    assert!(
        ContainerRow::retry_from_error(&mut conn, id, Lifecycle::Creating)
            .await
            .unwrap()
    );
    drop(conn);
    world.enqueue(id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_create_task_is_reported_with_its_log_and_retry_creates_it() {
    let world = World::start(WorldOptions::default()).await;
    let worker = world
        .runner(world.settings(), Duration::from_secs(30))
        .await;
    world.fail_next(
        "vzcreate",
        "lvcreate 'pve/vm-130-disk-0' failed: volume group is full",
    );
    let id = world
        .create(&bare_spec(world.node_id, 130, static_ip()))
        .await;
    let message = assert_failed(&world, id).await;
    assert!(
        message.starts_with("Creating the container failed: unable to create CT 130"),
        "{message}"
    );
    assert!(message.contains("volume group is full"), "{message}");
    assert_eq!(world.containers_with(130).await, 0);
    assert!(
        world.row(id).await.root_password_enc.is_some(),
        "kept until the container exists"
    );
    let key = world.container_key(id).await;

    retry(&world, id).await;
    let row = world.wait_finished(id).await;
    assert_eq!(
        row.lifecycle,
        Lifecycle::Ready,
        "{}",
        world.transcript(id).await
    );
    assert!(row.root_password_enc.is_none());
    assert_eq!(
        world.container_key(id).await.public_openssh(),
        key.public_openssh(),
        "the retry creates it with the key made before the first create call"
    );
    world.assert_own_ssh_key(id, 130).await;
    assert_eq!(world.containers_with(130).await, 1);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_start_is_reported_and_retry_does_not_create_again() {
    let world = World::start(WorldOptions::default()).await;
    let worker = world
        .runner(world.settings(), Duration::from_secs(30))
        .await;
    world.fail_next("vzstart", "startup for container '131' failed: cgroup busy");
    let id = world
        .create(&bare_spec(world.node_id, 131, static_ip()))
        .await;
    let message = assert_failed(&world, id).await;
    assert!(
        message.starts_with(
            "Starting the container failed: startup for container '131' failed: cgroup busy"
        ),
        "{message}"
    );
    let row = world.row(id).await;
    assert_eq!(
        Checkpoint::from_json(&row.checkpoint).done,
        Some(Phase::Create)
    );
    assert!(
        row.root_password_enc.is_none(),
        "erased once the container exists"
    );

    retry(&world, id).await;
    let row = world.wait_finished(id).await;
    assert_eq!(
        row.lifecycle,
        Lifecycle::Ready,
        "{}",
        world.transcript(id).await
    );
    assert_eq!(
        world.create_tasks(131).await,
        1,
        "the retry resumed after create"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dhcp_lease_and_no_node_access_fails_naming_both() {
    let world = World::start(WorldOptions {
        node_ssh_authorized: false,
    })
    .await;
    world.sim.update_faults(FaultsPatch {
        dhcp_lease_ms: Some(3_600_000),
        ..FaultsPatch::default()
    });
    let mut settings = world.settings();
    settings.dhcp_timeout = Duration::from_secs(1);
    let worker = world.runner(settings, Duration::from_secs(30)).await;
    let id = world
        .create(&bare_spec(world.node_id, 132, Ipv4Setup::Dhcp))
        .await;
    let message = assert_failed(&world, id).await;
    assert!(message.contains("no IPv4 address"), "{message}");
    assert!(message.contains("DHCP server on bridge vmbr0"), "{message}");
    assert!(
        message.contains(&world.deploy_key.public_openssh()),
        "says which key to authorize on the node: {message}"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_reachable_sshd_it_deploys_through_the_node_with_pct() {
    let world = World::start(WorldOptions::default()).await;
    world.sim.update_faults(FaultsPatch {
        dhcp_lease_ms: Some(3_600_000),
        ..FaultsPatch::default()
    });
    let mut settings = world.settings();
    settings.dhcp_timeout = Duration::from_secs(1);
    let worker = world.runner(settings, Duration::from_secs(30)).await;
    let id = world
        .create(&full_spec(world.node_id, 133, Ipv4Setup::Dhcp))
        .await;
    let row = world.wait_finished(id).await;
    let transcript = world.transcript(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    assert!(
        transcript.contains("Connected: CT 133 via root@127.0.0.1"),
        "{transcript}"
    );
    assert_eq!(row.ip_address, None);
    assert!(
        row.ssh_host_key.is_none(),
        "the container's own sshd was never used"
    );
    let node = {
        let mut conn = world.db.get().await.unwrap();
        backend::models::NodeRow::find(&mut conn, world.node_id)
            .await
            .unwrap()
    };
    let pinned = remote_shell::HostKey::parse(&node.ssh_host_key.expect("pinned")).unwrap();
    let presented =
        remote_shell::HostKey::parse(world.sim.node_ssh_host_key.as_deref().unwrap()).unwrap();
    assert_eq!(
        pinned, presented,
        "the node's host key is pinned on first use"
    );
    assert_eq!(
        world.read(133, "/etc/resolv.conf.bak").as_deref(),
        Some("nameserver 127.0.0.53\n")
    );
    assert!(transcript.contains("nginx is active"), "{transcript}");
    assert!(
        world
            .read(133, "/var/lib/dpkg-sim/installed/nginx")
            .is_some()
    );
    let mut conn = world.db.get().await.unwrap();
    let names = backend::models::CredentialRow::names(&mut conn, id)
        .await
        .unwrap();
    assert_eq!(names, ["admin-password"]);
    drop(conn);
    world.assert_own_ssh_key(id, 133).await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_host_key_fails_deploy() {
    let world = World::start(WorldOptions::default()).await;
    let worker = world
        .runner(world.settings(), Duration::from_secs(30))
        .await;
    let id = world
        .insert(&bare_spec(world.node_id, 134, static_ip()))
        .await;
    let impostor = DeployKey::generate().public_openssh();
    let impostor = impostor.rsplit_once(' ').unwrap().0.to_owned();
    {
        let mut conn = world.db.get().await.unwrap();
        ContainerRow::pin_ssh_host_key(&mut conn, id, &impostor)
            .await
            .unwrap();
    }
    world.enqueue(id).await;
    let message = assert_failed(&world, id).await;
    assert!(
        message.starts_with("The container's SSH host key changed"),
        "{message}"
    );
    let events = world.events(id).await;
    assert_eq!(events.last().unwrap().phase, Phase::Deploy);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_in_packages_scripts_and_finalize_name_what_failed() {
    let world = World::start(WorldOptions::default()).await;
    let worker = world
        .runner(world.settings(), Duration::from_secs(30))
        .await;

    let mut failing_script = bare_spec(world.node_id, 135, static_ip());
    failing_script.scripts = vec![
        script("10-ok.sh", "#!/bin/sh\necho fine\n"),
        script(
            "20-fail.sh",
            "#!/bin/sh\necho 'checking the config'\necho 'config is broken' >&2\nexit 3\n",
        ),
        script("30-never.sh", "#!/bin/sh\necho never\n"),
    ];
    let mut missing_package = bare_spec(world.node_id, 136, static_ip());
    missing_package.packages = vec![Package {
        name: "pvesim-missing-tool".into(),
        manager: PackageManager::Apt,
        version: None,
    }];
    let mut broken_finalize = bare_spec(world.node_id, 137, static_ip());
    broken_finalize.scripts = vec![script(
        "10-break-systemctl.sh",
        "#!/bin/sh\nprintf '#!/bin/sh\\necho \"systemd is gone\" >&2\\nexit 1\\n' > /usr/local/sbin/systemctl\n",
    )];

    let script_id = world.create(&failing_script).await;
    let package_id = world.create(&missing_package).await;
    let finalize_id = world.create(&broken_finalize).await;

    let message = assert_failed(&world, script_id).await;
    assert!(
        message.starts_with("Script 20-fail.sh failed with exit code 3."),
        "{message}"
    );
    assert!(message.contains("config is broken"), "{message}");
    let row = world.row(script_id).await;
    assert_eq!(Checkpoint::from_json(&row.checkpoint).scripts_done, 1);
    assert!(!world.transcript(script_id).await.contains("never"));

    let message = assert_failed(&world, package_id).await;
    assert!(
        message.starts_with("Installing the apt packages failed with exit code 100."),
        "{message}"
    );
    assert!(
        message.contains("Unable to locate package pvesim-missing-tool"),
        "{message}"
    );

    let message = assert_failed(&world, finalize_id).await;
    assert!(
        message.starts_with("Listing the container's services failed"),
        "{message}"
    );
    assert!(message.contains("systemd is gone"), "{message}");
    assert_eq!(
        world.events(finalize_id).await.last().unwrap().phase,
        Phase::Finalize
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_for_missing_or_finished_containers_are_acked_and_skipped() {
    let world = World::start(WorldOptions::default()).await;
    let worker = world
        .runner(world.settings(), Duration::from_secs(30))
        .await;
    let missing = domain::ContainerId::new_random();
    world.enqueue(missing).await;
    let ready = world
        .insert(&bare_spec(world.node_id, 138, static_ip()))
        .await;
    {
        let mut conn = world.db.get().await.unwrap();
        ContainerRow::set_lifecycle(&mut conn, ready, Lifecycle::Ready, None)
            .await
            .unwrap();
    }
    world.enqueue(ready).await;
    let limit = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let len: i64 =
            fred::interfaces::StreamsInterface::xlen(&world.redis, &world.queue.keys().stream)
                .await
                .unwrap();
        if len == 0 {
            break;
        }
        assert!(std::time::Instant::now() < limit, "jobs were not acked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(world.events(ready).await.is_empty());
    assert_eq!(world.containers_with(138).await, 0);
    let report = worker.stop().await;
    assert_eq!(report.done, 2, "{report:?}");
}
