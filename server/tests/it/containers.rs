//! The container server functions over real HTTP, with a real PostgreSQL and Redis and the
//! Proxmox simulator: list, detail, reveal, power actions, retry and delete.

use backend::crypto::Purpose;
use backend::events::{EventSink, SinkConfig};
use backend::models::event::EventRow;
use backend::models::{ContainerRow, CredentialRow, NewNode, NodeRow, ServiceRow};
use domain::container::{Credential, Lifecycle, Phase, ServiceInfo};
use domain::event::LogStream;
use domain::node::TlsTrust;
use domain::spec::{ContainerDraft, Ipv4Setup};
use domain::{ContainerId, NodeId};
use pve_client::lxc::{CreateCt, GuestState, RootFs};
use pve_client::{PveClient, Upid};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::server::TestApp;

const TOKEN_ID: &str = "root@pam!infrahaus";
const TOKEN_SECRET: &str = "0e6b1a52-3c1d-4c1f-9a51-6f2f2d1f7c10";
const DEBIAN: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
const DB_PASSWORD: &str = "s3cret-db-pass-4f1d2c";

pub(crate) async fn simulator() -> pvesim::SimHandle {
    let config = pvesim::SimConfig::builder()
        .token(TOKEN_ID, TOKEN_SECRET)
        .build();
    pvesim::Simulator::start(config)
        .await
        .expect("the simulator starts (is bubblewrap installed?)")
}

/// A node row for the simulator, with its token sealed as the settings page stores it.
pub(crate) async fn sim_node(app: &TestApp, sim: &pvesim::SimHandle) -> NodeId {
    let mut conn = app.ctx.db.get().await.unwrap();
    NodeRow::insert(
        &mut conn,
        &NewNode {
            name: testkit::unique("sim"),
            host: sim.api_addr.ip().to_string(),
            port: i32::from(sim.api_addr.port()),
            token_id: TOKEN_ID.into(),
            token_secret_enc: Some(
                app.ctx
                    .secrets
                    .seal_str(Purpose::NodeTokenSecret, TOKEN_SECRET),
            ),
            tls_fingerprint: Some(sim.fingerprint.clone()),
            ssh_port: 22,
        },
    )
    .await
    .unwrap()
    .id
}

/// A node that is never contacted (list and detail do not talk to Proxmox).
async fn offline_node(app: &TestApp, name: &str) -> NodeId {
    let mut conn = app.ctx.db.get().await.unwrap();
    NodeRow::insert(
        &mut conn,
        &NewNode {
            name: name.into(),
            host: "192.0.2.10".into(),
            port: 8006,
            token_id: TOKEN_ID.into(),
            token_secret_enc: Some(app.ctx.secrets.seal_str(Purpose::NodeTokenSecret, "x")),
            tls_fingerprint: None,
            ssh_port: 22,
        },
    )
    .await
    .unwrap()
    .id
}

fn spec(node: NodeId, hostname: &str, vmid: u32) -> ContainerDraft {
    ContainerDraft {
        node_id: node,
        template_name: Some("Web server".into()),
        hostname: hostname.into(),
        vmid,
        storage: "local-lvm".into(),
        os_template: DEBIAN.into(),
        bridge: "vmbr0".into(),
        ipv4: Ipv4Setup::Static {
            cidr: "192.168.1.50/24".into(),
            gateway: Some("192.168.1.1".into()),
        },
        ..ContainerDraft::default()
    }
}

async fn container_row(
    app: &TestApp,
    node: NodeId,
    hostname: &str,
    vmid: u32,
    lifecycle: Lifecycle,
) -> ContainerId {
    let mut conn = app.ctx.db.get().await.unwrap();
    let spec = testkit::fixtures::checked(&spec(node, hostname, vmid));
    testkit::fixtures::container(&mut conn, &spec, lifecycle).await
}

/// A client for the simulator, built the way the app builds one.
pub(crate) fn sim_client(sim: &pvesim::SimHandle) -> PveClient {
    backend::proxmox::client_for(
        &sim.api_addr.ip().to_string(),
        sim.api_addr.port(),
        TOKEN_ID,
        TOKEN_SECRET,
        &TlsTrust::Fingerprint(sim.fingerprint.clone()),
    )
    .unwrap()
}

pub(crate) async fn wait(client: &PveClient, upid: &Upid) {
    client
        .wait_for_task(
            upid,
            Duration::from_millis(100),
            Duration::from_secs(60),
            |_| {},
        )
        .await
        .expect("task succeeds");
}

/// Creates a container on the simulator as the worker would (stopped).
pub(crate) async fn create_on_sim(client: &PveClient, vmid: u32, hostname: &str) {
    let mut create = CreateCt::new(vmid, DEBIAN);
    create.hostname = Some(hostname.into());
    create.password = Some("root-pass-1".into());
    create.rootfs = Some(RootFs {
        storage: "local-lvm".into(),
        size_gib: 4,
    });
    let upid = client.lxc_create("pve", &create).await.unwrap();
    wait(client, &upid).await;
}

async fn state_on_sim(client: &PveClient, vmid: u32) -> GuestState {
    client.lxc_status("pve", vmid).await.unwrap().status
}

pub(crate) async fn exists_on_sim(client: &PveClient, vmid: u32) -> bool {
    client
        .cluster_resources(Some("vm"))
        .await
        .unwrap()
        .iter()
        .any(|g| g.vmid == Some(vmid))
}

#[tokio::test]
async fn list_and_detail_show_every_container_without_secrets() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let node = offline_node(&app, "pve-home").await;
    let web = container_row(&app, node, "web-1", 120, Lifecycle::Ready).await;
    let failed = container_row(&app, node, "db-1", 121, Lifecycle::Error).await;
    {
        let mut conn = app.ctx.db.get().await.unwrap();
        ServiceRow::replace_all(
            &mut conn,
            web,
            &[ServiceInfo {
                name: "nginx".into(),
                port: Some(80),
                protocol: "tcp".into(),
                url: Some("http://192.168.1.50:80/".into()),
            }],
        )
        .await
        .unwrap();
        CredentialRow::replace_all(
            &mut conn,
            &app.ctx.secrets,
            web,
            &[Credential {
                name: "db-password".into(),
                value: DB_PASSWORD.into(),
            }],
        )
        .await
        .unwrap();
        ContainerRow::set_lifecycle(&mut conn, failed, Lifecycle::Error, Some("vzcreate failed"))
            .await
            .unwrap();
    }

    let (status, list) = app.call(&client, "/api/containers/list", json!({})).await;
    assert_eq!(status, 200, "{list}");
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let row = |host: &str| rows.iter().find(|r| r["hostname"] == host).unwrap().clone();
    let web_row = row("web-1");
    assert_eq!(web_row["vmid"], 120);
    assert_eq!(web_row["node"], "pve-home");
    assert_eq!(web_row["lifecycle"], "ready");
    assert_eq!(web_row["template"], "Web server");
    assert!(web_row["created"].as_str().unwrap().ends_with("UTC"));
    assert_eq!(row("db-1")["lifecycle"], "error");

    let (status, detail) = app
        .call(&client, "/api/containers/get", json!({"id": web}))
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["summary"]["hostname"], "web-1");
    assert_eq!(detail["spec"]["os_template"], DEBIAN);
    assert_eq!(detail["spec"]["ipv4"]["cidr"], "192.168.1.50/24");
    assert_eq!(detail["services"][0]["name"], "nginx");
    assert_eq!(detail["services"][0]["port"], 80);
    assert_eq!(detail["credentials"], json!(["db-password"]));
    assert!(!detail.to_string().contains(DB_PASSWORD));

    let (_, detail) = app
        .call(&client, "/api/containers/get", json!({"id": failed}))
        .await;
    assert_eq!(detail["error_message"], "vzcreate failed");

    let (status, missing) = app
        .call(
            &client,
            "/api/containers/get",
            json!({"id": ContainerId::new_random()}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "not_found", "{missing}");
}

#[tokio::test]
async fn every_container_function_refuses_a_caller_without_a_session() {
    let app = TestApp::start().await;
    let node = offline_node(&app, "pve").await;
    let id = container_row(&app, node, "web-1", 120, Lifecycle::Error).await;
    let client = app.client();
    for (path, body) in [
        ("/api/containers/list", json!({})),
        ("/api/containers/get", json!({"id": id})),
        (
            "/api/containers/reveal",
            json!({"id": id, "name": "db-password"}),
        ),
        (
            "/api/containers/power",
            json!({"id": id, "action": "start"}),
        ),
        ("/api/containers/delete", json!({"id": id})),
        ("/api/containers/retry", json!({"id": id})),
    ] {
        let (status, _) = app.call(&client, path, body).await;
        assert_eq!(status, 401, "{path}");
    }
    let mut conn = app.ctx.db.get().await.unwrap();
    let row = ContainerRow::find(&mut conn, id).await.unwrap();
    assert_eq!(row.lifecycle, Lifecycle::Error, "nothing changed");
}

/// Everything the process logs, at every level.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    fn install() -> CapturedLog {
        let log = CapturedLog::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        log
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn reveal_opens_one_credential_and_never_logs_or_stores_it_in_events() {
    let log = CapturedLog::install();
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let node = offline_node(&app, "pve").await;
    let id = container_row(&app, node, "web-1", 120, Lifecycle::Ready).await;
    {
        let mut conn = app.ctx.db.get().await.unwrap();
        CredentialRow::replace_all(
            &mut conn,
            &app.ctx.secrets,
            id,
            &[
                Credential {
                    name: "db-password".into(),
                    value: DB_PASSWORD.into(),
                },
                Credential {
                    name: "admin-token".into(),
                    value: "tok-123".into(),
                },
            ],
        )
        .await
        .unwrap();
    }

    let (status, credential) = app
        .call(
            &client,
            "/api/containers/reveal",
            json!({"id": id, "name": "db-password"}),
        )
        .await;
    assert_eq!(status, 200, "{credential}");
    assert_eq!(
        credential,
        json!({"name": "db-password", "value": DB_PASSWORD})
    );

    let (status, missing) = app
        .call(
            &client,
            "/api/containers/reveal",
            json!({"id": id, "name": "nope"}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "not_found", "{missing}");

    let logged = log.text();
    assert!(
        logged.contains("credential revealed"),
        "the reveal is logged (without the value): {logged}"
    );
    assert!(!logged.contains(DB_PASSWORD), "the value was logged");
    let mut conn = app.ctx.db.get().await.unwrap();
    let events = EventRow::list_after(&mut conn, id, 0, 10_000)
        .await
        .unwrap();
    assert!(
        events.iter().all(|e| !e.message.contains(DB_PASSWORD)),
        "the value is in an event"
    );
}

#[tokio::test]
async fn power_actions_start_shut_down_and_stop_the_container_on_its_node() {
    let sim = simulator().await;
    let pve = sim_client(&sim);
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let node = sim_node(&app, &sim).await;
    create_on_sim(&pve, 130, "web-1").await;
    let id = container_row(&app, node, "web-1", 130, Lifecycle::Ready).await;
    assert_eq!(state_on_sim(&pve, 130).await, GuestState::Stopped);

    let power = |action: &'static str| {
        let (app, client) = (&app, &client);
        async move {
            app.call(
                client,
                "/api/containers/power",
                json!({"id": id, "action": action}),
            )
            .await
        }
    };
    let (status, body) = power("start").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(state_on_sim(&pve, 130).await, GuestState::Running);

    let (status, body) = power("shutdown").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(state_on_sim(&pve, 130).await, GuestState::Stopped);

    power("start").await;
    let (status, body) = power("stop").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(state_on_sim(&pve, 130).await, GuestState::Stopped);

    // A container still being created is left to the worker.
    let creating = container_row(&app, node, "web-2", 131, Lifecycle::Creating).await;
    let (status, body) = app
        .call(
            &client,
            "/api/containers/power",
            json!({"id": creating, "action": "start"}),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        testkit::server::message_if(&body, "conflict").is_string(),
        "{body}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn delete_stops_and_destroys_the_container_then_forgets_it() {
    let sim = simulator().await;
    let pve = sim_client(&sim);
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let node = sim_node(&app, &sim).await;
    create_on_sim(&pve, 140, "web-1").await;
    let upid = pve.lxc_start("pve", 140).await.unwrap();
    wait(&pve, &upid).await;
    let id = container_row(&app, node, "web-1", 140, Lifecycle::Ready).await;
    {
        let mut conn = app.ctx.db.get().await.unwrap();
        CredentialRow::replace_all(
            &mut conn,
            &app.ctx.secrets,
            id,
            &[Credential {
                name: "db-password".into(),
                value: DB_PASSWORD.into(),
            }],
        )
        .await
        .unwrap();
    }

    let (status, body) = app
        .call(&client, "/api/containers/delete", json!({"id": id}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!exists_on_sim(&pve, 140).await, "still on the node");
    let (_, missing) = app
        .call(&client, "/api/containers/get", json!({"id": id}))
        .await;
    assert_eq!(missing["error"], "not_found", "{missing}");
    let mut conn = app.ctx.db.get().await.unwrap();
    assert!(
        CredentialRow::names(&mut conn, id)
            .await
            .unwrap()
            .is_empty(),
        "its credentials went with it"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn delete_tolerates_a_container_already_gone_and_spares_a_stranger_with_its_vmid() {
    let sim = simulator().await;
    let pve = sim_client(&sim);
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let node = sim_node(&app, &sim).await;

    // Never created, or removed by hand in Proxmox.
    let gone = container_row(&app, node, "gone-1", 150, Lifecycle::Error).await;
    let (status, body) = app
        .call(&client, "/api/containers/delete", json!({"id": gone}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, missing) = app
        .call(&client, "/api/containers/get", json!({"id": gone}))
        .await;
    assert_eq!(missing["error"], "not_found", "{missing}");

    // Creation failed because someone else's container has the VMID: that one stays.
    create_on_sim(&pve, 151, "someone-else").await;
    let clash = container_row(&app, node, "web-1", 151, Lifecycle::Error).await;
    let (status, body) = app
        .call(&client, "/api/containers/delete", json!({"id": clash}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(exists_on_sim(&pve, 151).await, "a stranger was destroyed");

    // Still being created: refused, nothing touched.
    create_on_sim(&pve, 152, "web-2").await;
    let creating = container_row(&app, node, "web-2", 152, Lifecycle::Creating).await;
    let (status, body) = app
        .call(&client, "/api/containers/delete", json!({"id": creating}))
        .await;
    assert_eq!(status, 409);
    assert!(
        testkit::server::message_if(&body, "conflict").is_string(),
        "{body}"
    );
    assert!(exists_on_sim(&pve, 152).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn retry_requeues_a_failed_creation_once_and_records_it() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let node = offline_node(&app, "pve").await;
    let id = container_row(&app, node, "web-1", 120, Lifecycle::Creating).await;
    // A first run that failed in Deploy.
    let sink = EventSink::open(
        app.ctx.db.clone(),
        app.ctx.redis.clone(),
        id,
        SinkConfig::default(),
    )
    .await
    .unwrap();
    sink.step(Phase::Deploy, 40, "Deploying files")
        .await
        .unwrap();
    sink.log(LogStream::Stderr, "scp: connection refused")
        .await
        .unwrap();
    sink.error("Could not connect over SSH.").await.unwrap();
    sink.close().await.unwrap();

    let (status, body) = app
        .call(&client, "/api/containers/retry", json!({"id": id}))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut conn = app.ctx.db.get().await.unwrap();
    let row = ContainerRow::find(&mut conn, id).await.unwrap();
    assert_eq!(row.lifecycle, Lifecycle::Creating);
    assert_eq!(row.error_message, None);
    // Its job is open: queueing it again adds nothing.
    let again = app
        .ctx
        .queue
        .enqueue(&backend::queue::Job { container_id: id })
        .await
        .unwrap();
    assert_eq!(again, backend::queue::Enqueued::AlreadyQueued);
    // The history goes on after the failure, so an open progress page keeps streaming.
    let events = EventRow::list_after(&mut conn, id, 0, 100).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.seq, 4);
    assert_eq!(last.kind, domain::event::EventKind::Step);
    assert_eq!(last.phase, Phase::Deploy);
    assert!(last.message.contains("Retrying"), "{last:?}");

    // A second click, or a container that did not fail, is refused.
    let (status, body) = app
        .call(&client, "/api/containers/retry", json!({"id": id}))
        .await;
    assert_eq!(status, 409);
    assert!(
        testkit::server::message_if(&body, "conflict").is_string(),
        "{body}"
    );
    let ready = container_row(&app, node, "web-2", 121, Lifecycle::Ready).await;
    let (_, body) = app
        .call(&client, "/api/containers/retry", json!({"id": ready}))
        .await;
    assert!(
        testkit::server::message_if(&body, "conflict").is_string(),
        "{body}"
    );
    assert_eq!(
        EventRow::count(&mut conn, id).await.unwrap(),
        4,
        "no second retry event"
    );
}
