//! Live status and power over real HTTP with the simulator: the pollers one node shares between
//! every viewer (counted in the simulator's request log), missing containers and unreachable
//! nodes, restart, a shutdown that does not finish, the containers' Proxmox tasks and logs, and
//! refusal without a session.

use crate::containers::{create_on_sim, sim_client, sim_node, simulator, wait};
use backend::crypto::Purpose;
use backend::models::{NewNode, NodeRow};
use backend::services::status::{LiveStatusHub, PollSettings};
use domain::container::Lifecycle;
use domain::{ContainerId, NodeId};
use pve_client::PveClient;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::server::TestApp;

/// A container that runs on the simulator, created and started as the worker would.
pub(crate) async fn running_on_sim(pve: &PveClient, vmid: u32, hostname: &str) {
    create_on_sim(pve, vmid, hostname).await;
    let upid = pve.lxc_start("pve", vmid).await.unwrap();
    wait(pve, &upid).await;
}

/// A `ready` container row in infrahaus.
pub(crate) async fn ready_row(
    app: &TestApp,
    node: NodeId,
    vmid: u32,
    hostname: &str,
) -> ContainerId {
    let mut conn = app.ctx.db.get().await.unwrap();
    let spec = testkit::fixtures::spec(node, vmid, hostname);
    testkit::fixtures::container(&mut conn, &spec, Lifecycle::Ready).await
}

/// A node whose address takes connections and never answers (a hung host), on loopback.
pub(crate) async fn black_hole_node(app: &TestApp) -> (NodeId, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut conn = app.ctx.db.get().await.unwrap();
    let node = NodeRow::insert(
        &mut conn,
        &NewNode {
            name: testkit::unique("hung"),
            host: "127.0.0.1".into(),
            port: i32::from(port),
            token_id: "root@pam!infrahaus".into(),
            token_secret_enc: Some(app.ctx.secrets.seal_str(Purpose::NodeTokenSecret, "x")),
            tls_fingerprint: Some(
                "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
                    .into(),
            ),
            ssh_port: 22,
        },
    )
    .await
    .unwrap();
    (node.id, holder)
}

/// A test server with the simulator as a node, on which container 130 `web-1` runs and is
/// `ready` in infrahaus.
pub(crate) struct World {
    pub sim: pvesim::SimHandle,
    pub pve: PveClient,
    pub app: TestApp,
    pub node: NodeId,
    pub web: ContainerId,
}

impl World {
    /// A world served by `app`.
    pub async fn on(app: TestApp) -> World {
        let sim = simulator().await;
        let pve = sim_client(&sim);
        let node = sim_node(&app, &sim).await;
        running_on_sim(&pve, 130, "web-1").await;
        let web = ready_row(&app, node, 130, "web-1").await;
        World {
            sim,
            pve,
            app,
            node,
            web,
        }
    }

    pub async fn start() -> World {
        World::on(TestApp::start().await).await
    }

    /// Runs `action` on `id` through `containers/power`; the status and the answer.
    async fn power(&self, client: &reqwest::Client, id: ContainerId, action: &str) -> (u16, Value) {
        self.app
            .call(
                client,
                "/api/containers/power",
                json!({"id": id, "action": action}),
            )
            .await
    }
}

/// This app's server again, with pollers of its own.
async fn with_pollers(app: &TestApp, settings: PollSettings) -> TestApp {
    app.sibling(app::ssr::ServerContext {
        live: LiveStatusHub::new(settings),
        ..app.ctx.clone()
    })
    .await
}

/// Pollers that ask once and keep the answer for the whole test.
fn ask_once() -> PollSettings {
    PollSettings {
        interval: Duration::from_secs(3600),
        node_timeout: Duration::from_secs(20),
        idle_after: Duration::from_secs(3600),
        first_answer_wait: Duration::from_secs(20),
    }
}

/// `containers/live` as one viewer sees it: the view of each container by id.
async fn live(app: &TestApp, client: &reqwest::Client) -> Views {
    let (status, body) = app.call(client, "/api/containers/live", json!({})).await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_owned(), s["view"].clone()))
        .collect()
}

type Views = std::collections::HashMap<String, Value>;

/// Reads `containers/live` until `done` holds; returns the views then.
async fn live_until(
    app: &TestApp,
    client: &reqwest::Client,
    what: &str,
    done: impl Fn(&Views) -> bool,
) -> Views {
    let deadline = tokio::time::Instant::now() + testkit::browser::PATIENCE;
    loop {
        let views = live(app, client).await;
        if done(&views) {
            return views;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} never happened: {views:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn viewers_share_one_proxmox_call_per_node() {
    let World {
        sim: sim_a,
        pve: pve_a,
        app,
        node: node_a,
        web,
    } = World::on(with_pollers(&TestApp::start().await, ask_once()).await).await;
    let sim_b = simulator().await;
    let pve_b = sim_client(&sim_b);
    let node_b = sim_node(&app, &sim_b).await;
    create_on_sim(&pve_a, 131, "db-1").await;
    running_on_sim(&pve_b, 140, "cache-1").await;
    let db = ready_row(&app, node_a, 131, "db-1").await;
    let cache = ready_row(&app, node_b, 140, "cache-1").await;

    let mut viewers = Vec::new();
    for _ in 0..6 {
        viewers.push(app.logged_in().await.0);
    }
    let app_ref = &app;
    let reads = viewers.iter().map(|client| async move {
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(live(app_ref, client).await);
        }
        seen
    });
    for seen in futures::future::join_all(reads).await {
        for views in seen {
            assert_eq!(views[&web.to_string()]["state"], "running", "{views:?}");
            assert_eq!(views[&db.to_string()]["state"], "stopped");
            assert_eq!(views[&cache.to_string()]["state"], "running");
            let usage = &views[&web.to_string()];
            assert_eq!(usage["maxmem"], 512 * 1024 * 1024_u64);
            assert!(usage["cpu"].as_f64().unwrap() > 0.0, "{usage}");
            assert!(usage["mem"].as_u64().unwrap() > 0, "{usage}");
        }
    }
    assert_eq!(sim_a.request_count("GET", "/nodes/pve/lxc"), 1);
    assert_eq!(sim_b.request_count("GET", "/nodes/pve/lxc"), 1);
    assert_eq!(
        sim_a.request_count("GET", "/nodes"),
        1,
        "one session per poller"
    );

    // The container page asks `status/current`, also once for every viewer.
    for client in &viewers {
        let (status, body) = app
            .call(client, "/api/containers/status", json!({"id": web}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["view"]["state"], "running");
        assert!(body["view"]["uptime_secs"].is_u64());
    }
    assert_eq!(
        sim_a.request_count("GET", "/nodes/pve/lxc/130/status/current"),
        1
    );
    sim_a.shutdown().await;
    sim_b.shutdown().await;
}

#[tokio::test]
async fn a_poller_asks_each_interval_while_watched_and_stops_after() {
    let settings = PollSettings {
        interval: Duration::from_millis(200),
        idle_after: Duration::from_secs(1),
        ..PollSettings::default()
    };
    let World { sim, app, web, .. } =
        World::on(with_pollers(&TestApp::start().await, settings).await).await;
    let web = web.to_string();
    let (client, _) = app.logged_in().await;

    let first = live(&app, &client).await[&web]["uptime_secs"].as_u64();
    assert!(first.is_some(), "no uptime");
    live_until(&app, &client, "the uptime moving on", |views| {
        views[&web]["uptime_secs"].as_u64() > first
    })
    .await;
    assert!(sim.request_count("GET", "/nodes/pve/lxc") >= 2);

    // Nobody reads any more: the poller stops, and Proxmox is asked nothing after.
    let stopped =
        testkit::browser::poll_until(|| async { app.ctx.live.running_pollers() == 0 }).await;
    assert!(stopped, "the poller still runs");
    let asked = sim.request_count("GET", "/nodes/pve/lxc");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sim.request_count("GET", "/nodes/pve/lxc"), asked);
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_containers_and_unreachable_nodes_show_on_their_own_rows() {
    let settings = PollSettings {
        node_timeout: Duration::from_secs(10),
        ..PollSettings::default()
    };
    let World {
        sim,
        pve,
        app,
        node,
        web,
    } = World::on(with_pollers(&TestApp::start().await, settings).await).await;
    let (hung, _holder) = black_hole_node(&app).await;
    create_on_sim(&pve, 132, "someone-else").await;
    let web = web.to_string();
    let gone = ready_row(&app, node, 131, "gone-1").await.to_string();
    let replaced = ready_row(&app, node, 132, "web-2").await.to_string();
    let stuck = ready_row(&app, hung, 150, "far-1").await.to_string();
    let (client, _) = app.logged_in().await;

    // The simulator's rows are there while the hung node is still being waited for.
    let views = live_until(&app, &client, "web-1 running", |views| {
        views[&web]["state"] == "running"
    })
    .await;
    assert_eq!(views[&gone]["state"], "missing");
    assert_eq!(
        views[&replaced]["state"], "missing",
        "another guest took its VMID"
    );
    assert_eq!(
        views[&stuck]["state"], "checking",
        "the hung node holds up nobody"
    );
    let views = live_until(&app, &client, "far-1 unreachable", |views| {
        views[&stuck]["state"] == "unreachable"
    })
    .await;
    assert!(
        views[&stuck]["reason"]
            .as_str()
            .unwrap()
            .contains("did not answer within 10 s"),
        "{views:?}"
    );
    assert_eq!(views[&web]["state"], "running");
    sim.shutdown().await;
}

#[tokio::test]
async fn restart_and_a_shutdown_that_does_not_finish_leave_tasks_with_logs() {
    let world = World::start().await;
    let World {
        sim,
        pve,
        app,
        node,
        web,
    } = &world;
    let (web, other) = (*web, ready_row(app, *node, 131, "web-2").await);
    let (client, _) = app.logged_in().await;
    let before = pve.lxc_status("pve", 130).await.unwrap();

    let (status, body) = world.power(&client, web, "restart").await;
    assert_eq!(status, 200, "{body}");
    let after = pve.lxc_status("pve", 130).await.unwrap();
    assert_eq!(after.status, pve_client::lxc::GuestState::Running);
    assert_ne!(after.pid, before.pid, "it was started again");

    sim.update_faults(pvesim::FaultsPatch {
        fail_next: [("vzshutdown".into(), "container did not stop".into())].into(),
        ..Default::default()
    });
    let (status, body) = world.power(&client, web, "shutdown").await;
    assert_eq!(status, 409, "{body}");
    let message = testkit::server::message_if(&body, "conflict")
        .as_str()
        .unwrap();
    assert!(
        message.contains("did not shut down within 60 s"),
        "{message}"
    );

    let (status, tasks) = app
        .call(&client, "/api/containers/tasks", json!({"id": web}))
        .await;
    assert_eq!(status, 200, "{tasks}");
    let kinds: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["vzshutdown", "vzreboot", "vzstart", "vzcreate"]);
    assert_eq!(tasks[0]["state"]["state"], "failed");
    assert_eq!(tasks[0]["state"]["message"], "container did not stop");
    assert_eq!(tasks[1]["state"]["state"], "ok");
    assert_eq!(tasks[1]["user"], "root@pam!infrahaus");

    let upid = tasks[0]["upid"].as_str().unwrap();
    let task_log = |id: ContainerId, upid: &str| {
        let body = json!({"id": id, "upid": upid});
        app.call(&client, "/api/containers/task_log", body)
    };
    let (status, log) = task_log(web, upid).await;
    assert_eq!(status, 200, "{log}");
    assert_eq!(log["lines"], json!(["TASK ERROR: container did not stop"]));

    // Only the container's own tasks, and only task ids.
    for (id, upid) in [(other, upid), (web, "UPID:nonsense")] {
        let (status, body) = task_log(id, upid).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["fields"]["upid"].is_string(), "{body}");
    }
    world.sim.shutdown().await;
}

#[tokio::test]
async fn live_status_and_tasks_refuse_a_caller_without_a_session() {
    let World { sim, app, web, .. } = World::start().await;
    let client = app.client();
    let upid = "UPID:pve:00001234:00000001:00000001:vzstart:130:root@pam!infrahaus:";
    for (path, body) in [
        ("/api/containers/live", json!({})),
        ("/api/containers/status", json!({"id": web})),
        ("/api/containers/tasks", json!({"id": web})),
        ("/api/containers/task_log", json!({"id": web, "upid": upid})),
        (
            "/api/containers/power",
            json!({"id": web, "action": "restart"}),
        ),
    ] {
        let (status, body) = app.call(&client, path, body).await;
        assert_eq!(status, 401, "{path}: {body}");
    }
    assert_eq!(app.ctx.live.running_pollers(), 0);
    let asked: u64 = [
        "/nodes",
        "/nodes/pve/lxc",
        "/nodes/pve/lxc/130/status/current",
    ]
    .iter()
    .map(|path| sim.request_count("GET", path))
    .sum();
    assert_eq!(asked, 0, "Proxmox was asked on behalf of nobody");
    assert_eq!(
        sim.request_count("POST", "/nodes/pve/lxc/130/status/reboot"),
        0
    );
    sim.shutdown().await;
}
