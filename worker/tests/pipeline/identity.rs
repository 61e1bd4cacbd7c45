//! SSH identities: the node key stays with the node, each container has its own key, and the
//! host at a container's address is proven to be the container before anything runs there.

use std::net::Ipv4Addr;
use std::time::Duration;

use domain::container::Lifecycle;
use domain::event::EventKind;
use domain::spec::{ContainerDraft, Ipv4Setup};
use pve_client::lxc::{CreateCt, NetConfig, RootFs};
use worker::pipeline::job_tag;

use crate::common::*;
use crate::impostor::Impostor;

/// A bare spec with a static loopback address, and that address.
fn static_spec(world: &World, vmid: u32) -> (ContainerDraft, Ipv4Addr) {
    let cidr = static_cidr();
    let ip: Ipv4Addr = cidr.split('/').next().unwrap().parse().unwrap();
    let spec = bare_spec(
        world.node_id,
        vmid,
        Ipv4Setup::Static {
            cidr,
            gateway: None,
        },
    );
    (spec, ip)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_host_at_the_containers_address_is_refused_and_runs_nothing() {
    let world = World::start(WorldOptions::default()).await;
    let (spec, ip) = static_spec(&world, 150);
    // The attacker's dream: a host at the address that would accept the node key.
    let impostor = Impostor::start(ip, &world.deploy_key.public_openssh());
    let mut settings = world.settings();
    settings.container_ssh_port = impostor.port;
    let worker = world.runner(settings, Duration::from_secs(30)).await;
    let id = world.create(&spec).await;
    let (row, transcript) = world.finished(id).await;
    std::fs::write(
        testkit::output_dir().join("worker-transcript-impostor.txt"),
        &transcript,
    )
    .unwrap();
    assert_eq!(row.lifecycle, Lifecycle::Error, "{transcript}");
    let own = remote_shell::HostKey::parse(&world.sim.container_host_key(150).unwrap()).unwrap();
    let expected = format!(
        "The host at {ip} is not container 150: it presented SSH host key {} but the \
         container's own key is {}. Nothing was run there.",
        impostor.fingerprint(),
        own.fingerprint()
    );
    let events = world.events(id).await;
    let last = events.last().unwrap();
    assert_eq!(last.kind, EventKind::Error, "{transcript}");
    assert!(last.message.starts_with(&expected), "{}", last.message);
    assert!(
        row.error_message.as_deref().unwrap().starts_with(&expected),
        "{row:?}"
    );
    assert!(row.ssh_host_key.is_none(), "nothing was pinned");
    assert!(
        !transcript.contains("using pct"),
        "no fallback for an impostor: {transcript}"
    );
    assert!(!impostor.ran_a_command(), "nothing ran at the impostor");
    let log = impostor.log();
    assert!(
        log.contains("Connection from"),
        "the worker did connect: {log}"
    );
    assert!(
        !log.contains("publickey") && !log.contains("Accepted"),
        "no key was offered to it: {log}"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_node_ssh_the_host_key_is_trusted_on_first_use_at_an_own_address() {
    let world = World::start(WorldOptions::without_node_ssh()).await;
    let (spec, ip) = static_spec(&world, 151);
    let worker = world.default_runner().await;
    let id = world.create(&spec).await;
    let (row, transcript) = world.finished(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    let own = remote_shell::HostKey::parse(&world.sim.container_host_key(151).unwrap()).unwrap();
    assert!(
        transcript.contains(&format!(
            "Trusted the container's SSH host key {} on first use: the Proxmox node's SSH is \
             not available to confirm it, but {ip} is one of the container's own addresses.",
            own.fingerprint()
        )),
        "{transcript}"
    );
    assert_eq!(row.ssh_host_key.as_deref(), Some(own.to_openssh().as_str()));
    world.assert_own_ssh_key(id, 151).await;
    worker.stop().await;
}

/// Creates container `vmid` as a worker before per-container keys did (the node key in its
/// `authorized_keys`, no key in the row) and leaves it for the job to find.
async fn legacy_container(world: &World, vmid: u32) -> (domain::ContainerId, Ipv4Addr) {
    let (spec, ip) = static_spec(world, vmid);
    let id = world.insert(&spec).await;
    let Ipv4Setup::Static { cidr, .. } = &spec.ipv4 else {
        unreachable!()
    };
    let params = CreateCt {
        hostname: Some(spec.hostname.clone()),
        password: Some(ROOT_PASSWORD.into()),
        ssh_public_keys: Some(world.deploy_key.public_openssh()),
        rootfs: Some(RootFs {
            storage: spec.storage.clone(),
            size_gib: spec.disk_gib,
        }),
        net0: Some(NetConfig::static_ip(&spec.bridge, cidr.clone(), None)),
        tags: vec![job_tag(id)],
        ..CreateCt::new(vmid, DEBIAN)
    };
    let pve = world.pve().await;
    let upid = pve.lxc_create("pve", &params).await.unwrap();
    pve.wait_for_task(
        &upid,
        Duration::from_millis(100),
        Duration::from_secs(60),
        |_| {},
    )
    .await
    .unwrap();
    let authorized = world.read(vmid, "/root/.ssh/authorized_keys").unwrap();
    assert!(authorized.lines().any(|l| world.deploy_key.is_in_line(l)));
    assert!(world.row(id).await.ssh_key_enc.is_none());
    (id, ip)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_from_before_per_container_keys_is_rekeyed_through_the_node() {
    let world = World::start(WorldOptions::default()).await;
    let (id, ip) = legacy_container(&world, 152).await;
    let worker = world.default_runner().await;
    world.enqueue(id).await;
    let (row, transcript) = world.finished(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    let own = world.container_key(id).await;
    assert!(
        transcript.contains(&format!(
            "Re-keyed container 152: it was created before per-container SSH keys, so through \
             the Proxmox node its root authorized_keys now holds its own key {} instead of the \
             worker's node key.",
            own.fingerprint()
        )),
        "{transcript}"
    );
    assert!(
        transcript.contains(&format!("Connected: root@{ip}:")),
        "then it logs in directly with its own key: {transcript}"
    );
    assert_eq!(world.create_tasks(152).await, 1, "not created again");
    world.assert_own_ssh_key(id, 152).await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_from_before_per_container_keys_keeps_the_node_key_without_node_ssh() {
    let world = World::start(WorldOptions::without_node_ssh()).await;
    let (id, _) = legacy_container(&world, 153).await;
    let worker = world.default_runner().await;
    world.enqueue(id).await;
    let (row, transcript) = world.finished(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    assert!(
        transcript.contains(
            "Container 153 was created before per-container SSH keys, and the Proxmox node's \
             SSH is not available to re-key it: the worker logs in to it with its node key this \
             time."
        ),
        "{transcript}"
    );
    assert!(row.ssh_key_enc.is_none(), "not re-keyed");
    worker.stop().await;
}
