//! The preflight check against a fake single-node PVE built from the fixtures.

use std::collections::BTreeSet;
use std::sync::Arc;

use pve_client::{PreflightReport, preflight};
use serde_json::{Value, json};

use crate::common::{MockPve, Recorded, Reply, token};

/// Privileges the fake grants per ACL path.
type Grants = Arc<dyn Fn(&str) -> Vec<&'static str> + Send + Sync>;

const VM_ADMIN: [&str; 7] = [
    "VM.Allocate",
    "VM.Audit",
    "VM.Config.Disk",
    "VM.Config.CPU",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
];

fn answer(req: &Recorded, version: &Value, grants: &Grants) -> Reply {
    match req.path.as_str() {
        "/version" => Reply::data(version.clone()),
        "/nodes" => Reply::fixture("GET_nodes.single-pve9"),
        "/cluster/nextid" => Reply::fixture("GET_cluster_nextid"),
        "/nodes/pve/storage" => Reply::fixture("GET_nodes_node_storage.single-pve9"),
        "/nodes/pve/storage/local/content" => {
            assert_eq!(req.query.get("content").map(String::as_str), Some("vztmpl"));
            Reply::fixture("GET_nodes_node_storage_storage_content.vztmpl")
        }
        "/nodes/pve/storage/local-lvm/content" | "/nodes/pve/storage/vmdata/content" => {
            panic!("only template storages are searched for templates")
        }
        "/nodes/pve/network" => Reply::fixture("GET_nodes_node_network.single-pve9"),
        "/access/permissions" => {
            let path = req.query["path"].clone();
            let privs: serde_json::Map<String, Value> = grants(&path)
                .into_iter()
                .map(|p| (p.to_owned(), json!(1)))
                .collect();
            if privs.is_empty() {
                Reply::data(json!({}))
            } else {
                Reply::data(json!({ path: privs }))
            }
        }
        other => Reply::raw(
            501,
            Some(&format!("Method 'GET {other}' not implemented")),
            "",
        ),
    }
}

async fn run(version: Value, grants: Grants, node: Option<&str>) -> (PreflightReport, MockPve) {
    let server = MockPve::start(move |r| answer(r, &version, &grants)).await;
    let report = preflight(&server.client(token()), node).await.unwrap();
    (report, server)
}

fn pve9() -> Value {
    json!({"version": "9.0.3", "release": "9.0", "repoid": "abcdef12"})
}

#[tokio::test]
async fn full_privileges_make_a_ready_report() {
    let (report, _server) = run(
        pve9(),
        Arc::new(|_| {
            let mut all = VM_ADMIN.to_vec();
            all.extend(["Datastore.AllocateSpace", "SDN.Use", "Sys.Modify"]);
            all
        }),
        None,
    )
    .await;
    assert_eq!(report.node.as_deref(), Some("pve"));
    assert_eq!(report.next_vmid, Some(100));
    let storages: Vec<_> = report
        .rootdir_storages
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(storages, ["local-lvm", "vmdata"]);
    assert_eq!(report.templates.len(), 3);
    assert_eq!(report.bridges.len(), 1);
    assert!(report.missing_privileges().is_empty(), "{report:#?}");
    assert!(report.can_create(), "{:?}", report.blockers());

    let text = report.to_string();
    for part in [
        "Proxmox VE 9.0.3 (release 9.0)",
        "Nodes: pve (online)",
        "Next free VMID: 100",
        "  - local-lvm (lvmthin, 3.6 GiB free)",
        "  - local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst (120.6 MiB)",
        "  - vmbr0 (192.168.200.134/24)",
        "Privileges: all needed privileges are granted",
        "Result: ready to create containers.",
    ] {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }

    let json = serde_json::to_string(&report).unwrap();
    let back: PreflightReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

#[tokio::test]
async fn missing_privileges_are_listed_and_block_creation() {
    // A privilege-separated token with only PVEVMAdmin on /vms.
    let (report, server) = run(
        pve9(),
        Arc::new(|path| {
            if path.starts_with("/vms") {
                VM_ADMIN.to_vec()
            } else {
                vec![]
            }
        }),
        None,
    )
    .await;
    let missing: BTreeSet<(String, String)> = report
        .missing_privileges()
        .into_iter()
        .map(|c| (c.path.clone(), c.privilege.clone()))
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("/storage/local-lvm", "Datastore.AllocateSpace"),
        ("/storage/vmdata", "Datastore.AllocateSpace"),
        ("/sdn/zones/localnetwork/vmbr0", "SDN.Use"),
        ("/", "Sys.Modify"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(missing, want);
    assert!(!report.can_create());
    let blockers = report.blockers().join("\n");
    assert!(
        blockers.contains("Datastore.AllocateSpace on every container storage"),
        "{blockers}"
    );
    assert!(blockers.contains("SDN.Use on every bridge"), "{blockers}");
    assert!(
        !blockers.contains("Sys.Modify"),
        "privileged CTs are optional: {blockers}"
    );
    assert!(
        report
            .to_string()
            .contains("  - Sys.Modify on / (only for privileged containers")
    );
    // VM privileges are checked on the VMID the container would get.
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path == "/access/permissions" && r.query["path"] == "/vms/100")
    );
}

#[tokio::test]
async fn missing_vm_allocate_is_a_blocker() {
    let (report, _server) = run(
        pve9(),
        Arc::new(|path| match path {
            "/vms/100" => VM_ADMIN[1..].to_vec(),
            _ => vec!["Datastore.AllocateSpace", "SDN.Use"],
        }),
        None,
    )
    .await;
    assert_eq!(
        report.blockers(),
        ["The credentials lack VM.Allocate on /vms/100, needed to create the container."]
    );
}

#[tokio::test]
async fn pve7_has_no_sdn_privilege_to_check() {
    let (report, server) = run(
        json!({"version": "7.4-16", "release": "7.4", "repoid": "0f39f621"}),
        Arc::new(|_| {
            let mut all = VM_ADMIN.to_vec();
            all.push("Datastore.AllocateSpace");
            all
        }),
        None,
    )
    .await;
    assert!(report.can_create(), "{:?}", report.blockers());
    assert!(report.bridges[0].can_use);
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.query.get("path").is_some_and(|p| p.starts_with("/sdn")))
    );
}

#[tokio::test]
async fn unknown_node_is_reported_not_thrown() {
    let (report, _server) = run(pve9(), Arc::new(|_| VM_ADMIN.to_vec()), Some("pve9")).await;
    assert_eq!(report.node, None);
    assert!(!report.can_create());
    assert_eq!(
        report.blockers(),
        ["Node 'pve9' is not part of this cluster (nodes: pve)."]
    );
}

#[tokio::test]
async fn unreachable_server_is_an_error() {
    let server = MockPve::start(|_| Reply::raw(401, Some("No ticket"), "")).await;
    let err = preflight(&server.client(token()), None).await.unwrap_err();
    assert!(err.is_auth_failure());
}
