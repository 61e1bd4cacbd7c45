//! The simulator's answers have the shapes of real PVE answers: for the REAL and REAL-LIKELY
//! fixtures (and a few source-derived ones), every key the fixture has is present with the same
//! JSON type (number vs string vs array vs object), recursively.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{self, Api, encode_segment};
use crate::envelopes::fixture;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The fixture element an element of the simulator's list is compared with: one of the same
/// `type` (or `ip-address-type`), preferably with the same `status`, then the same `name`.
fn counterpart<'a>(real: &'a [Value], sim: &Value) -> Option<&'a Value> {
    let mut candidates: Vec<&Value> = real.iter().collect();
    for (key, required) in [("type", true), ("ip-address-type", true), ("status", false)] {
        let Some(value) = sim.get(key) else { continue };
        let narrowed: Vec<&Value> = candidates
            .iter()
            .copied()
            .filter(|r| r.get(key) == Some(value))
            .collect();
        if !narrowed.is_empty() {
            candidates = narrowed;
        } else if required && candidates.iter().any(|r| r.get(key).is_some()) {
            return None;
        }
    }
    sim.get("name")
        .and_then(|name| {
            candidates
                .iter()
                .copied()
                .find(|r| r.get("name") == Some(name))
        })
        .or(candidates.first().copied())
}

/// Collects shape differences; `optional` keys may be missing, `retyped` keys may differ in type.
fn shape_diff(
    real: &Value,
    sim: &Value,
    path: &str,
    optional: &[&str],
    retyped: &[&str],
    out: &mut Vec<String>,
) {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    if kind(real) != kind(sim) {
        if !retyped.contains(&leaf) {
            out.push(format!(
                "{path}: fixture has {} ({real}), simulator has {} ({sim})",
                kind(real),
                kind(sim)
            ));
        }
        return;
    }
    match (real, sim) {
        (Value::Object(r), Value::Object(s)) => {
            for (key, rv) in r {
                match s.get(key) {
                    Some(sv) => {
                        shape_diff(rv, sv, &format!("{path}.{key}"), optional, retyped, out)
                    }
                    None if optional.contains(&key.as_str()) => {}
                    None => out.push(format!("{path}.{key}: missing in the simulator's answer")),
                }
            }
        }
        (Value::Array(r), Value::Array(s)) if !r.is_empty() => {
            for (i, sv) in s.iter().enumerate() {
                if let Some(rv) = counterpart(r, sv) {
                    shape_diff(rv, sv, &format!("{path}[{i}]"), optional, retyped, out);
                }
            }
        }
        _ => {}
    }
}

#[track_caller]
fn assert_shape(name: &str, sim: &Value, optional: &[&str], retyped: &[&str]) {
    let real = fixture(name);
    let mut diffs = Vec::new();
    shape_diff(&real, sim, "", optional, retyped, &mut diffs);
    assert!(
        diffs.is_empty(),
        "{name}:\n{}\nsimulator answered: {sim}",
        diffs.join("\n")
    );
}

#[tokio::test]
async fn answers_have_the_fixtures_shapes() {
    let faults = pvesim::Faults {
        dhcp_lease_ms: 60_000,
        ..pvesim::Faults::fast()
    };
    let sim = common::start(common::builder().faults(faults).build()).await;
    let api = Api::token(&sim);
    let anon = Api::new(&sim, common::Auth::None);

    let ticket = anon
        .post(
            "/access/ticket",
            &[
                ("username", "root@pam"),
                ("password", common::ROOT_PASSWORD),
            ],
        )
        .await;
    assert_shape("POST_access_ticket.wiki-pve2.json", &ticket.json, &[], &[]);
    // PVE 9 dropped the VM.Monitor privilege that the PVE 8 capture lists.
    assert_shape(
        "POST_access_ticket.pve8-with-cap.json",
        &ticket.json,
        &["clustername", "VM.Monitor"],
        &[],
    );

    let nodes = api.get("/nodes", &[]).await;
    assert_shape("GET_nodes.single-pve9.json", &nodes.json, &[], &[]);
    assert_shape("GET_nodes.cluster4-pve8.json", &nodes.json, &[], &[]);
    assert_eq!(nodes.data()[0]["ssl_fingerprint"], sim.fingerprint.as_str());
    assert_shape(
        "GET_nodes_node_status.pve7.4-16.json",
        &api.get("/nodes/pve/status", &[]).await.json,
        &[],
        &[],
    );
    assert_shape(
        "GET_nodes_node_storage.single-pve9.json",
        &api.get("/nodes/pve/storage", &[]).await.json,
        &[],
        &[],
    );
    let network = api.get("/nodes/pve/network", &[]).await.json;
    assert_shape(
        "GET_nodes_node_network.single-pve9.json",
        &network,
        &[],
        &[],
    );
    assert_shape(
        "GET_nodes_node_network.pve9.1.1-pvesh.json",
        &network,
        &[],
        &[],
    );
    assert_shape(
        "GET_nodes_node_network.vlan-pve8.json",
        &network,
        &[
            "comments",
            "bridge_vids",
            "bridge_vlan_aware",
            "address",
            "cidr",
            "netmask",
            "gateway",
            "options",
        ],
        &[],
    );
    assert_shape(
        "GET_cluster_nextid.json",
        &api.get("/cluster/nextid", &[]).await.json,
        &[],
        &[],
    );
    assert_shape(
        "GET_nodes_node_storage_storage_content.vztmpl.json",
        &api.get("/nodes/pve/storage/local/content", &[]).await.json,
        &[],
        &[],
    );

    // A running container (DHCP, lease still pending), a stopped template with tags, and one
    // with many config keys.
    let create_upid = api
        .create_ct(
            100,
            &[
                ("hostname", "ct-full"),
                ("cores", "2"),
                ("memory", "4096"),
                ("swap", "512"),
                ("features", "nesting=1"),
                ("onboot", "1"),
                ("tags", "tag1;tag2"),
                ("net0", "name=eth0,bridge=vmbr0,firewall=1,ip=dhcp"),
            ],
        )
        .await;
    api.create_ct(
        101,
        &[
            ("hostname", "test-template"),
            ("cores", "2"),
            ("tags", "tag1;tag2"),
            ("template", "1"),
        ],
    )
    .await;
    api.power(100, "start").await;

    let config = api.get("/nodes/pve/lxc/100/config", &[]).await.json;
    assert_shape(
        "GET_nodes_node_lxc_vmid_config.raw-lxc-pve7.json",
        &config,
        &["lxc", "mp0"],
        &[],
    );
    assert_shape(
        "GET_nodes_node_lxc_vmid_config.fresh-create-source-derived.json",
        &config,
        &[],
        &[],
    );
    assert_shape(
        "GET_nodes_node_lxc_vmid_config.pve6.2.json",
        &config,
        &[
            "console",
            "cmode",
            "description",
            "tty",
            "protection",
            "cpuunits",
            "cpulimit",
        ],
        &[],
    );
    assert!(
        config["data"]["net0"]
            .as_str()
            .unwrap()
            .contains("hwaddr=BC:24:11:")
    );

    let list = api.get("/nodes/pve/lxc", &[]).await.json;
    // PVE <= 8.0 sent vmid as a string; PVE 9 (which the simulator models) sends a number.
    assert_shape(
        "GET_nodes_node_lxc.pve7-vmid-string.json",
        &json!({ "data": [list["data"][0].clone()] }),
        &[],
        &["vmid"],
    );
    assert_shape(
        "GET_nodes_node_lxc.pve9-source-derived.json",
        &list,
        &[],
        &[],
    );
    assert!(list["data"][0]["vmid"].is_u64());

    let stopped = api.get("/nodes/pve/lxc/101/status/current", &[]).await.json;
    assert_shape(
        "GET_nodes_node_lxc_vmid_status_current.stopped-template-pve7.json",
        &stopped,
        &[],
        &[],
    );
    let running = api.get("/nodes/pve/lxc/100/status/current", &[]).await.json;
    assert_shape(
        "GET_nodes_node_lxc_vmid_status_current.pve6.2.json",
        &running,
        &["group", "state"],
        &["cpus"],
    );

    let interfaces = api.get("/nodes/pve/lxc/100/interfaces", &[]).await.json;
    assert_shape(
        "GET_nodes_node_lxc_vmid_interfaces.pve9.2.2-no-dhcp.json",
        &interfaces,
        &[],
        &[],
    );
    assert!(
        interfaces["data"][1].get("inet").is_none(),
        "no IPv4 before the DHCP lease: {interfaces}"
    );
    assert_shape(
        "GET_nodes_node_lxc_vmid_interfaces.pve8.4plus-source-derived.json",
        &interfaces,
        &["inet"],
        &[],
    );
    assert_eq!(
        api.get("/nodes/pve/lxc/101/interfaces", &[]).await.json,
        fixture("GET_nodes_node_lxc_vmid_interfaces.stopped.json")
    );

    let resources = api.get("/cluster/resources", &[]).await.json;
    let mut real = fixture("GET_cluster_resources.cluster4-pve8.json");
    for row in real["data"].as_array_mut().unwrap() {
        if row["type"] == "qemu" {
            row["type"] = json!("lxc");
        }
    }
    let mut diffs = Vec::new();
    shape_diff(
        &real,
        &resources,
        "",
        &["tags", "cgroup-mode"],
        &[],
        &mut diffs,
    );
    assert!(diffs.is_empty(), "cluster resources:\n{}", diffs.join("\n"));

    let tasks = api.get("/nodes/pve/tasks", &[]).await.json;
    assert_shape("GET_nodes_node_tasks.pve6.4-8.json", &tasks, &[], &[]);
    let status = api
        .get(
            &format!("/nodes/pve/tasks/{}/status", encode_segment(&create_upid)),
            &[],
        )
        .await
        .json;
    assert_shape(
        "GET_nodes_node_tasks_upid_status.token-task.json",
        &status,
        &[],
        &[],
    );
    assert_shape(
        "GET_nodes_node_tasks_upid_status.stopped-ok.json",
        &status,
        &[],
        &[],
    );
    let log = api
        .get(
            &format!("/nodes/pve/tasks/{}/log", encode_segment(&create_upid)),
            &[],
        )
        .await
        .json;
    assert_shape(
        "GET_nodes_node_tasks_upid_log.vzcreate.json",
        &log,
        &[],
        &[],
    );

    api.faults(&json!({ "task_delay_ms": { "vzstop": 1000 } }))
        .await;
    let stop = api.post("/nodes/pve/lxc/100/status/stop", &[]).await;
    assert_shape(
        "POST_nodes_node_lxc_vmid_status_stop.json",
        &stop.json,
        &[],
        &[],
    );
    let upid = stop.data().as_str().unwrap();
    let running_task = api
        .get(
            &format!("/nodes/pve/tasks/{}/status", encode_segment(upid)),
            &[],
        )
        .await
        .json;
    assert_shape(
        "GET_nodes_node_tasks_upid_status.proxmoxer-vzdump.json",
        &running_task,
        &[],
        &[],
    );
    assert_shape(
        "GET_nodes_node_tasks_upid_status.running.json",
        &running_task,
        &[],
        &[],
    );
    api.wait_task("pve", upid).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn dhcp_interface_gets_its_address_after_the_lease() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    api.create_ct(100, &[("net0", "name=eth0,bridge=vmbr0,ip=dhcp")])
        .await;
    api.power(100, "start").await;
    let mut inet = None;
    for _ in 0..60 {
        let interfaces = api.get("/nodes/pve/lxc/100/interfaces", &[]).await.json;
        if let Some(addr) = interfaces["data"][1].get("inet") {
            assert_shape(
                "GET_nodes_node_lxc_vmid_interfaces.legacy-pve8.json",
                &interfaces,
                &[],
                &[],
            );
            assert_shape(
                "GET_nodes_node_lxc_vmid_interfaces.pve8.4plus-source-derived.json",
                &interfaces,
                &[],
                &[],
            );
            inet = Some(addr.as_str().unwrap().to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let inet = inet.expect("a DHCP lease within 3 s");
    let ip: std::net::Ipv4Addr = inet.split('/').next().unwrap().parse().unwrap();
    assert!(ip.is_loopback(), "{inet}");
    assert_eq!(
        sim.container_ssh_addr(100),
        Some(std::net::SocketAddr::from((ip, sim.ssh_port)))
    );
    sim.shutdown().await;
}
