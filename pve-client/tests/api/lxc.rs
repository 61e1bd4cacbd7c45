//! What the LXC calls put on the wire.

use pve_client::lxc::{CreateCt, CtFeatures, NetConfig, RootFs};

use crate::common::{MockPve, Recorded, Reply, token};

/// Each request as `METHOD /path`.
fn calls(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn create_sends_every_wizard_parameter_form_encoded() {
    let server = MockPve::start(|_| Reply::fixture("POST_nodes_node_lxc")).await;
    let keys = "ssh-ed25519 AAAAC3Nz+aC1/lZDI1NTE5= alice@laptop\nssh-rsa AAAAB3Nza bob@desk";
    let ct = CreateCt {
        hostname: Some("web-1".into()),
        password: Some("pa ss&word=+".into()),
        ssh_public_keys: Some(keys.into()),
        cores: Some(2),
        memory_mib: Some(2048),
        swap_mib: Some(512),
        rootfs: Some(RootFs {
            storage: "local-lvm".into(),
            size_gib: 16,
        }),
        net0: Some(NetConfig::static_ip(
            "vmbr0",
            "10.0.0.5/24",
            Some("10.0.0.1".into()),
        )),
        nameserver: Some("10.0.0.1 1.1.1.1".into()),
        features: CtFeatures {
            nesting: true,
            keyctl: false,
            fuse: true,
        },
        unprivileged: false,
        tags: vec!["infrahaus".into(), "web".into()],
        onboot: true,
        description: Some("Line one\nLine two".into()),
        ..CreateCt::new(123, "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")
    };
    let upid = server.client(token()).lxc_create("pve", &ct).await.unwrap();
    assert_eq!(upid.task_type, "vzcreate");

    let req = server.requests().pop().unwrap();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/nodes/pve/lxc")
    );
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(
        !req.raw_body.contains('+'),
        "spaces must be %20: {}",
        req.raw_body
    );
    let f = &req.form;
    let expect = [
        ("vmid", "123"),
        (
            "ostemplate",
            "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
        ),
        ("hostname", "web-1"),
        ("password", "pa ss&word=+"),
        ("ssh-public-keys", keys),
        ("cores", "2"),
        ("memory", "2048"),
        ("swap", "512"),
        ("rootfs", "local-lvm:16"),
        ("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1"),
        ("nameserver", "10.0.0.1 1.1.1.1"),
        ("features", "nesting=1,fuse=1"),
        ("unprivileged", "0"),
        ("tags", "infrahaus;web"),
        ("onboot", "1"),
        ("description", "Line one\nLine two"),
        ("start", "0"),
    ];
    for (k, v) in expect {
        assert_eq!(f.get(k).map(String::as_str), Some(v), "field {k}");
    }
    assert_eq!(f.len(), expect.len());
}

#[tokio::test]
async fn power_actions_and_delete_hit_the_right_paths() {
    let server = MockPve::start(|r| match r.path.rsplit('/').next().unwrap() {
        "start" => Reply::fixture("POST_nodes_node_lxc_vmid_status_start"),
        "shutdown" => Reply::fixture("POST_nodes_node_lxc_vmid_status_shutdown"),
        "stop" => Reply::fixture("POST_nodes_node_lxc_vmid_status_stop"),
        _ => Reply::fixture("DELETE_nodes_node_lxc_vmid"),
    })
    .await;
    let c = server.client(token());
    c.lxc_start("pve", 100).await.unwrap();
    c.lxc_shutdown("pve", 100).await.unwrap();
    c.lxc_stop("pve", 100).await.unwrap();
    c.lxc_delete("pve", 100, false).await.unwrap();
    c.lxc_delete("pve", 100, true).await.unwrap();
    let reqs = server.requests();
    assert_eq!(
        calls(&reqs),
        [
            "POST /nodes/pve/lxc/100/status/start",
            "POST /nodes/pve/lxc/100/status/shutdown",
            "POST /nodes/pve/lxc/100/status/stop",
            "DELETE /nodes/pve/lxc/100",
            "DELETE /nodes/pve/lxc/100",
        ]
    );
    assert!(reqs[3].query.is_empty());
    assert_eq!(reqs[4].query["purge"], "1");
}

#[tokio::test]
async fn reboot_and_a_timed_shutdown_send_their_parameters() {
    let server = MockPve::start(|r| match r.path.rsplit('/').next().unwrap() {
        "shutdown" => Reply::fixture("POST_nodes_node_lxc_vmid_status_shutdown"),
        _ => Reply::fixture("POST_nodes_node_lxc_vmid_status_start"),
    })
    .await;
    let c = server.client(token());
    c.lxc_shutdown_within("pve", 100, 30, false).await.unwrap();
    c.lxc_reboot("pve", 100, Some(20)).await.unwrap();
    c.lxc_reboot("pve", 100, None).await.unwrap();
    let reqs = server.requests();
    assert_eq!(
        calls(&reqs),
        [
            "POST /nodes/pve/lxc/100/status/shutdown",
            "POST /nodes/pve/lxc/100/status/reboot",
            "POST /nodes/pve/lxc/100/status/reboot",
        ]
    );
    assert_eq!(reqs[0].form["timeout"], "30");
    assert_eq!(reqs[0].form["forceStop"], "0");
    assert_eq!(reqs[1].form["timeout"], "20");
    assert!(reqs[2].form.is_empty(), "{:?}", reqs[2].form);
}

#[tokio::test]
async fn a_guests_tasks_are_asked_for_with_pves_filters() {
    let server = MockPve::start(|_| Reply::fixture("GET_nodes_node_tasks.pve6.4-8")).await;
    let c = server.client(token());
    let filter = pve_client::tasks::TaskFilter {
        vmid: Some(130),
        since: Some(1_700_000_000),
        limit: Some(20),
        include_running: true,
    };
    let tasks = c.node_tasks_where("pve", &filter).await.unwrap();
    assert_eq!(tasks.len(), 3);
    c.node_tasks_where("pve", &pve_client::tasks::TaskFilter::default())
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[0].path, "/nodes/pve/tasks");
    let query: Vec<_> = reqs[0]
        .query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        query,
        ["limit=20", "since=1700000000", "source=all", "vmid=130"]
    );
    assert!(reqs[1].query.is_empty());
}
