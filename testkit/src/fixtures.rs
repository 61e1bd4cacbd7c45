//! Rows the suites start from, made the way the product makes them: a node registered at an
//! address nothing answers on, a checked container spec, a container row for it, and progress
//! events.

use backend::models::{ContainerRow, NewContainer, NewNode, NodeRow, RunRow};
use diesel_async::AsyncPgConnection;
use domain::container::Lifecycle;
use domain::spec::{ContainerDraft, ContainerSpec, Ipv4Setup};
use domain::{ContainerId, NodeId};

/// The OS template the simulator offers and the specs here use.
pub const DEBIAN: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

/// A node at 192.0.2.10 (TEST-NET-1, never answers) with a dummy sealed secret.
pub async fn unreachable_node(conn: &mut AsyncPgConnection) -> NodeRow {
    NodeRow::insert(
        conn,
        &NewNode {
            name: crate::unique("node"),
            host: "192.0.2.10".into(),
            port: 8006,
            token_id: "root@pam!infrahaus".into(),
            token_secret_enc: Some(vec![0; 16]),
            tls_fingerprint: None,
            ssh_port: 22,
        },
    )
    .await
    .expect("insert a node")
}

/// An apt package without a pinned version.
pub fn apt(name: &str) -> domain::template::Package {
    domain::template::Package {
        name: name.into(),
        manager: domain::template::PackageManager::Apt,
        version: None,
    }
}

/// The smallest draft the create call accepts: DHCP on `vmbr0`, `local-lvm`, Debian 12.
pub fn draft(node: NodeId, vmid: u32, hostname: &str) -> ContainerDraft {
    ContainerDraft {
        node_id: node,
        hostname: hostname.into(),
        vmid,
        storage: "local-lvm".into(),
        os_template: DEBIAN.into(),
        bridge: "vmbr0".into(),
        ipv4: Ipv4Setup::Dhcp,
        ..ContainerDraft::default()
    }
}

/// [`draft`], checked.
pub fn spec(node: NodeId, vmid: u32, hostname: &str) -> ContainerSpec {
    checked(&draft(node, vmid, hostname))
}

/// `draft` checked as the create call checks it; panics naming the fields when it fails.
pub fn checked(draft: &ContainerDraft) -> ContainerSpec {
    draft
        .validated()
        .unwrap_or_else(|e| panic!("the test's spec does not pass the checks: {e}"))
}

/// The row the create call would store for `spec` (lifecycle `creating`), with the sealed root
/// password when one is given.
pub fn new_container(spec: &ContainerSpec, root_password_enc: Option<Vec<u8>>) -> NewContainer {
    NewContainer {
        id: ContainerId::new_random(),
        node_id: spec.node_id,
        template_id: spec.template_id,
        vmid: spec.vmid,
        hostname: spec.hostname.clone(),
        lifecycle: Lifecycle::Creating,
        config: serde_json::to_value(spec).expect("a spec serialises"),
        root_password_enc,
        created_by: None,
    }
}

/// Stores a container row for `spec` in `lifecycle`, without a root password, with its
/// creation run.
pub async fn container(
    conn: &mut AsyncPgConnection,
    spec: &ContainerSpec,
    lifecycle: Lifecycle,
) -> ContainerId {
    let new = NewContainer {
        lifecycle,
        ..new_container(spec, None)
    };
    let id = ContainerRow::insert(conn, &new)
        .await
        .expect("insert a container")
        .id;
    RunRow::insert_creation(conn, id, None)
        .await
        .expect("insert its creation run");
    id
}

/// A deploy-phase event `line SEQ` of `kind` (a log line on stdout, as the worker's sink writes
/// one, or a step, completion or error).
pub fn progress_event(seq: i64, kind: domain::event::EventKind) -> domain::event::ProgressEvent {
    domain::event::ProgressEvent {
        kind,
        stream: (kind == domain::event::EventKind::Log).then_some(domain::event::LogStream::Stdout),
        ..log_event(seq)
    }
}

/// A deploy-phase stdout log line `line SEQ`, as the worker's sink writes one.
pub fn log_event(seq: i64) -> domain::event::ProgressEvent {
    domain::event::ProgressEvent {
        seq,
        kind: domain::event::EventKind::Log,
        phase: domain::container::Phase::Deploy,
        percent: 50,
        message: format!("line {seq}"),
        stream: Some(domain::event::LogStream::Stdout),
        script: None,
        at: "2026-01-02T03:04:05.123456Z".parse().unwrap(),
    }
}
