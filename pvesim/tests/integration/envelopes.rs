//! PVE's envelopes and error semantics, compared byte-for-byte (as JSON values) with the
//! fixtures where the fixture is exactly what PVE sends for the same call.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{self, Api, Auth, DEBIAN, Reply};

pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/pve/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

#[track_caller]
fn assert_fixture(reply: &Reply, name: &str, status: u16) {
    assert_eq!(reply.status, status, "{name}: {}", reply.body);
    assert_eq!(reply.json, fixture(name), "{name}");
    let first_line = reply.json["message"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(reply.reason, first_line, "{name}: reason phrase");
}

#[tokio::test]
async fn error_bodies_match_fixtures() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    assert_fixture(
        &api.get("/nodes/pve/foo", &[]).await,
        "ERROR_501_unknown_method.json",
        501,
    );
    assert_fixture(
        &api.get("/nodes/pve/lxc/999/status/current", &[]).await,
        "GET_nodes_node_lxc_vmid_status_current.nonexistent.json",
        500,
    );
    assert_fixture(
        &api.get("/nodes/doesntexist/status", &[]).await,
        "GET_nodes_node_status.unknown-node.json",
        500,
    );
    assert_fixture(
        &api.post("/nodes/pve/lxc", &[("vmid", "100"), ("ostemplate", DEBIAN)])
            .await,
        "POST_nodes_node_lxc.no-rootdir-storage.json",
        400,
    );
    let missing = api.post("/nodes/pve/lxc", &[("vmid", "100")]).await;
    assert_fixture(&missing, "POST_nodes_node_lxc.missing-ostemplate.json", 400);

    api.create_ct(100, &[]).await;
    let tasks_before =
        api.get("/nodes/pve/tasks", &[("source", "all")]).await.json["total"].clone();
    assert_fixture(
        &api.post(
            "/nodes/pve/lxc",
            &[
                ("vmid", "100"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:4"),
            ],
        )
        .await,
        "POST_nodes_node_lxc.ct-exists.json",
        500,
    );
    let tasks_after = api.get("/nodes/pve/tasks", &[("source", "all")]).await.json["total"].clone();
    assert_eq!(tasks_before, tasks_after, "a refused create starts no task");

    assert_fixture(
        &api.post("/nodes/pve/lxc/100/status/stop", &[]).await,
        "POST_nodes_node_lxc_vmid_status_stop.not-running.json",
        500,
    );
    api.power(100, "start").await;
    assert_fixture(
        &api.post("/nodes/pve/lxc/100/status/start", &[]).await,
        "POST_nodes_node_lxc_vmid_status_start.already-running.json",
        500,
    );
    assert_fixture(
        &api.delete("/nodes/pve/lxc/100").await,
        "DELETE_nodes_node_lxc_vmid.running.json",
        500,
    );

    api.create_ct(200, &[]).await;
    let in_use = api.get("/cluster/nextid", &[("vmid", "200")]).await;
    assert_fixture(&in_use, "GET_cluster_nextid.vmid-in-use.json", 400);
    assert_eq!(api.get("/cluster/nextid", &[]).await.data(), "101");
    sim.shutdown().await;
}

#[tokio::test]
async fn auth_failures() {
    let sim = common::start(
        common::builder()
            .auth_failure_delay(Duration::from_millis(300))
            .build(),
    )
    .await;
    let anon = Api::new(&sim, Auth::None);

    let started = Instant::now();
    let reply = anon.get("/version", &[]).await;
    assert_eq!(
        (reply.status, reply.reason.as_str(), reply.body.as_str()),
        (401, "No ticket", "")
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "401s are delayed"
    );

    let bad_token = anon.with_auth(Auth::Token(format!(
        "PVEAPIToken={}=wrong",
        common::TOKEN_ID
    )));
    let reply = bad_token.get("/version", &[]).await;
    assert_eq!(
        (reply.status, reply.reason.as_str(), reply.body.as_str()),
        (401, "Authentication failed!", "")
    );
    let bad_ticket = anon.with_auth(Auth::Ticket {
        ticket: "PVE:root@pam:6553F100::Zm9v".into(),
        csrf: None,
    });
    assert_eq!(
        bad_ticket.get("/version", &[]).await.reason,
        "Authentication failed!"
    );

    let reply = anon
        .post(
            "/access/ticket",
            &[("username", "root@pam"), ("password", "wrong")],
        )
        .await;
    assert_fixture(&reply, "POST_access_ticket.401.json", 401);
    let reply = anon
        .post(
            "/access/ticket",
            &[("username", "nobody@pve"), ("password", "wrong")],
        )
        .await;
    assert_fixture(&reply, "POST_access_ticket.401.json", 401);

    // Token header with a space instead of the first '=' (the secret split is at the last '=').
    let spaced = anon.with_auth(Auth::Token(format!(
        "PVEAPIToken {}={}",
        common::TOKEN_ID,
        common::TOKEN_SECRET
    )));
    assert_eq!(spaced.get("/version", &[]).await.status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn tickets_and_csrf() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::login(&sim, "root@pam", common::ROOT_PASSWORD).await;
    let Auth::Ticket { ticket, csrf } = api.auth.clone() else {
        unreachable!()
    };
    let csrf = csrf.expect("csrf");
    let ticket_re = regex::Regex::new(r"^PVE:root@pam:[0-9A-F]{8}::[A-Za-z0-9+/=]+$").unwrap();
    assert!(ticket_re.is_match(&ticket), "{ticket}");
    let csrf_re = regex::Regex::new(r"^[0-9A-F]{8}:[A-Za-z0-9+/]{43}$").unwrap();
    assert!(csrf_re.is_match(&csrf), "{csrf}");

    assert_eq!(api.get("/nodes", &[]).await.status, 200);
    let no_csrf = api.with_auth(Auth::Ticket {
        ticket: ticket.clone(),
        csrf: None,
    });
    let reply = no_csrf
        .post("/nodes/pve/lxc", &[("vmid", "100"), ("ostemplate", DEBIAN)])
        .await;
    assert_eq!(
        (reply.status, reply.reason.as_str(), reply.body.as_str()),
        (401, "Permission denied - invalid csrf token", "")
    );
    let wrong_csrf = api.with_auth(Auth::Ticket {
        ticket: ticket.clone(),
        csrf: Some(format!("{}x", &csrf[..csrf.len() - 1])),
    });
    assert_eq!(wrong_csrf.post("/nodes/pve/lxc", &[]).await.status, 401);

    // Percent-encoded cookie values work; the ticket renews with itself as password.
    let encoded = api.with_auth(Auth::Ticket {
        ticket: common::encode_segment(&ticket),
        csrf: Some(csrf.clone()),
    });
    assert_eq!(encoded.get("/version", &[]).await.status, 200);
    let renewed = Api::new(&sim, Auth::None)
        .post(
            "/access/ticket",
            &[("username", "root@pam"), ("password", ticket.as_str())],
        )
        .await;
    assert_eq!(renewed.status, 200);
    let upid = api.create_ct(100, &[]).await;
    assert!(upid.ends_with(":vzcreate:100:root@pam:"), "{upid}");
    let status = api.wait_task("pve", &upid).await;
    assert_eq!(status["user"], "root@pam");
    assert!(status.get("tokenid").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn limited_privileges_get_403() {
    let config = common::builder()
        .token("auditor@pve!ro", "ro-secret")
        .privileges("auditor@pve!ro", "PVEAuditor")
        .expect("privs")
        .user("deployer@pve", "deploypass")
        .privileges("deployer@pve", "PVEVMAdmin,PVESDNUser")
        .expect("privs")
        .build();
    let sim = common::start(config).await;
    let root = Api::token(&sim);
    root.create_ct(100, &[]).await;
    let auditor = root.with_auth(Auth::Token("PVEAPIToken=auditor@pve!ro=ro-secret".into()));

    let perms = auditor.get("/access/permissions", &[]).await;
    assert_eq!(perms.status, 200);
    assert_eq!(perms.data()["/vms"]["VM.Audit"], 1);
    assert!(perms.data()["/vms"].get("VM.Allocate").is_none());
    let one = auditor
        .get("/access/permissions", &[("path", "/vms/100")])
        .await;
    assert_eq!(
        one.data().as_object().unwrap().keys().collect::<Vec<_>>(),
        ["/vms/100"]
    );
    let full = root.get("/access/permissions", &[("path", "/")]).await;
    assert_eq!(full.data()["/"]["VM.Allocate"], 1);

    assert_eq!(
        auditor
            .get("/nodes/pve/lxc/100/status/current", &[])
            .await
            .status,
        200
    );
    let create = auditor
        .post(
            "/nodes/pve/lxc",
            &[
                ("vmid", "101"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:4"),
            ],
        )
        .await;
    assert_fixture(&create, "POST_nodes_node_lxc.403-no-vm-allocate.json", 403);
    let start = auditor.post("/nodes/pve/lxc/100/status/start", &[]).await;
    assert_eq!(
        (start.status, start.json["message"].as_str()),
        (
            403,
            Some("Permission check failed (/vms/100, VM.PowerMgmt)\n")
        )
    );
    assert_eq!(
        start.reason,
        "Permission check failed (/vms/100, VM.PowerMgmt)"
    );
    let other = auditor
        .get("/access/permissions", &[("userid", "root@pam")])
        .await;
    assert_eq!(
        other.data()["/"]["VM.Allocate"],
        1,
        "Sys.Audit may read other users' permissions"
    );

    let deployer = Api::login(&sim, "deployer@pve", "deploypass").await;
    let create = deployer
        .post(
            "/nodes/pve/lxc",
            &[
                ("vmid", "101"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:4"),
            ],
        )
        .await;
    assert_eq!(
        create.json["message"],
        "Permission check failed (/storage/local, Datastore.AllocateSpace|Datastore.Audit)\n"
    );
    let other = deployer
        .get("/access/permissions", &[("userid", "root@pam")])
        .await;
    assert_eq!(
        other.json["message"],
        "Permission check failed (/access, Sys.Audit)\n"
    );
    let nodes = deployer.get("/nodes/pve/storage", &[]).await;
    assert_eq!(
        nodes.data(),
        &json!([]),
        "storages are filtered by Datastore privileges"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn parameters_from_query_override_body() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    let reply = api
        .call(
            reqwest::Method::POST,
            "/nodes/pve/lxc?hostname=from-query",
            &[
                ("vmid", "100"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:4"),
                ("hostname", "from-body"),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    api.wait_task("pve", reply.data().as_str().unwrap()).await;
    let config = api.get("/nodes/pve/lxc/100/config", &[]).await;
    assert_eq!(config.data()["hostname"], "from-query");
    sim.shutdown().await;
}
