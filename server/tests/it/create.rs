//! The wizard's server functions against real PostgreSQL, Redis and the Proxmox simulator: the
//! node's lists for the Configure step, VMID checks, and Deploy (store, seal, queue).

use domain::spec::{ContainerDraft, CreateContainerForm, Ipv4Setup};
use domain::template::{Package, PackageManager, Script};
use domain::{ContainerId, NodeId};
use fred::prelude::*;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::server::TestApp;

const TOKEN_ID: &str = "root@pam!infrahaus";
const TOKEN_SECRET: &str = "0d6f3b1e-4c1a-4d0b-9a57-7f1e2c3d4b5a";
const DEBIAN: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
const PASSWORD: &str = "s3cret-root-pw";
const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEHER3fQCbvFkVC/TZwsdcaGyZ7+ADZhzo3OjtKqcQEg me@laptop";

/// A test app, a logged-in client and a simulated Proxmox node registered as `pve`.
struct Setup {
    app: TestApp,
    client: reqwest::Client,
    sim: pvesim::SimHandle,
    node: NodeId,
}

impl Setup {
    async fn start() -> Self {
        let sim = pvesim::Simulator::start(
            pvesim::SimConfig::builder()
                .token(TOKEN_ID, TOKEN_SECRET)
                .build(),
        )
        .await
        .expect("the simulator starts");
        let app = TestApp::start().await;
        let (client, _) = app.logged_in().await;
        let node = register_node(
            &app,
            &client,
            "pve",
            &sim.api_addr.to_string(),
            &sim.fingerprint,
        )
        .await;
        Setup {
            app,
            client,
            sim,
            node,
        }
    }

    async fn call(&self, path: &str, body: Value) -> (u16, Value) {
        self.app.call(&self.client, path, body).await
    }

    async fn create(&self, form: &CreateContainerForm) -> (u16, Value) {
        self.call("/api/containers/create", json!({ "form": form }))
            .await
    }

    /// A valid form for this node with VMID `vmid` and a fresh request key.
    fn form(&self, vmid: u32) -> CreateContainerForm {
        CreateContainerForm {
            spec: spec(self.node, vmid),
            root_password: PASSWORD.into(),
            root_password_confirm: PASSWORD.into(),
            request_key: uuid::Uuid::new_v4(),
        }
    }

    /// A client for the simulator, to change what it holds behind the app's back.
    fn pve(&self) -> pve_client::PveClient {
        backend::proxmox::client_for(
            &self.sim.api_addr.ip().to_string(),
            self.sim.api_addr.port(),
            TOKEN_ID,
            TOKEN_SECRET,
            &domain::node::TlsTrust::Fingerprint(self.sim.fingerprint.clone()),
        )
        .unwrap()
    }

    /// Creates a container directly on the simulated node, as someone in the Proxmox UI would.
    async fn create_on_node(&self, vmid: u32) {
        let pve = self.pve();
        let mut params = pve_client::lxc::CreateCt::new(vmid, DEBIAN);
        params.rootfs = Some(pve_client::lxc::RootFs {
            storage: "local-lvm".into(),
            size_gib: 4,
        });
        let upid = pve.lxc_create("pve", &params).await.unwrap();
        pve.wait_for_task(
            &upid,
            Duration::from_millis(50),
            Duration::from_secs(30),
            |_| {},
        )
        .await
        .unwrap();
    }

    async fn rows(&self) -> Vec<backend::models::ContainerRow> {
        let mut conn = self.app.ctx.db.get().await.unwrap();
        backend::models::ContainerRow::list(&mut conn)
            .await
            .unwrap()
    }

    /// The jobs waiting in this app's queue stream, as their JSON payloads.
    async fn queued_jobs(&self) -> Vec<String> {
        let entries: Vec<(String, std::collections::HashMap<String, String>)> = self
            .app
            .ctx
            .redis
            .xrange(&self.app.ctx.queue.keys().stream, "-", "+", None)
            .await
            .unwrap();
        entries
            .into_iter()
            .map(|(_, fields)| fields.get("job").cloned().unwrap_or_default())
            .collect()
    }
}

/// Saves a node through the settings server fn; returns its id.
async fn register_node(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    addr: &str,
    fingerprint: &str,
) -> NodeId {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let (status, saved) = app
        .call(
            client,
            "/api/nodes/save",
            json!({"id": null, "form": {
                "name": name, "host": host, "port": port, "ssh_port": "22",
                "token_id": TOKEN_ID, "token_secret": TOKEN_SECRET,
                "tls_mode": "fingerprint", "fingerprint": fingerprint,
            }}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    serde_json::from_value(saved["id"].clone()).unwrap()
}

fn spec(node: NodeId, vmid: u32) -> ContainerDraft {
    ContainerDraft {
        node_id: node,
        hostname: "web-1".into(),
        vmid,
        cores: 2,
        memory_mib: 1024,
        storage: "local-lvm".into(),
        os_template: DEBIAN.into(),
        bridge: "vmbr0".into(),
        ipv4: Ipv4Setup::Static {
            cidr: "192.168.100.50/24".into(),
            gateway: Some("192.168.100.1".into()),
        },
        nameserver: Some("192.168.100.1".into()),
        ssh_public_key: Some(ED25519.into()),
        tags: vec!["web".into()],
        packages: vec![Package {
            name: "nginx".into(),
            manager: PackageManager::Apt,
            version: None,
        }],
        scripts: vec![Script {
            name: "10-setup.sh".into(),
            description: "Sets up the site".into(),
            content: "echo hello".into(),
            enabled: true,
        }],
        ..ContainerDraft::default()
    }
}

fn container_id(body: &Value) -> ContainerId {
    serde_json::from_value(body.clone()).unwrap_or_else(|_| panic!("a container id: {body}"))
}

#[tokio::test]
async fn deploy_stores_a_creating_container_with_its_password_sealed_and_queues_one_job() {
    let s = Setup::start().await;
    let (status, body) = s.create(&s.form(150)).await;
    assert_eq!(status, 200, "{body}");
    let id = container_id(&body);

    let rows = s.rows().await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.id, id);
    assert_eq!(row.lifecycle, domain::container::Lifecycle::Creating);
    assert_eq!((row.vmid.get(), row.hostname.as_str()), (150, "web-1"));
    assert_eq!(row.node_id, s.node);
    assert!(row.created_by.is_some());

    let stored = row.spec().unwrap();
    assert_eq!(stored, spec(s.node, 150).validated().unwrap());
    assert_eq!(stored.scripts[0].content, "echo hello");
    assert!(
        !row.config.to_string().contains(PASSWORD),
        "password in the config JSON"
    );

    let sealed = row
        .root_password_enc
        .as_deref()
        .expect("the root password is kept");
    assert!(!String::from_utf8_lossy(sealed).contains(PASSWORD));
    let opened = s
        .app
        .ctx
        .secrets
        .open_str(backend::crypto::Purpose::RootPassword, sealed)
        .unwrap();
    assert_eq!(opened, PASSWORD);

    let jobs = s.queued_jobs().await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job: backend::queue::Job = serde_json::from_str(&jobs[0]).unwrap();
    assert_eq!(job.container_id, id);
    assert!(!jobs[0].contains(PASSWORD));
    s.sim.shutdown().await;
}

#[tokio::test]
async fn each_invalid_field_is_named_and_nothing_is_stored_or_queued() {
    let s = Setup::start().await;
    type Spoil = fn(&mut CreateContainerForm);
    let cases: &[(&str, Spoil)] = &[
        ("hostname", |f| f.spec.hostname = "web_1".into()),
        ("hostname", |f| f.spec.hostname = "-web".into()),
        ("vmid", |f| f.spec.vmid = 99),
        ("cores", |f| f.spec.cores = 0),
        ("memory_mib", |f| f.spec.memory_mib = 4),
        ("disk_gib", |f| f.spec.disk_gib = 0),
        ("storage", |f| f.spec.storage = String::new()),
        ("os_template", |f| {
            f.spec.os_template = "debian.tar.zst".into()
        }),
        ("bridge", |f| f.spec.bridge = "vmbr0;reboot".into()),
        ("ipv4_cidr", |f| {
            f.spec.ipv4 = Ipv4Setup::Static {
                cidr: "192.168.100.0/24".into(),
                gateway: None,
            }
        }),
        ("gateway", |f| {
            f.spec.ipv4 = Ipv4Setup::Static {
                cidr: "192.168.100.50/24".into(),
                gateway: Some("10.0.0.1".into()),
            }
        }),
        ("nameserver", |f| f.spec.nameserver = Some("dns.lan".into())),
        ("ssh_public_key", |f| {
            f.spec.ssh_public_key = Some("ssh-ed25519 AAAAnotakey".into())
        }),
        ("tags", |f| f.spec.tags = vec!["two words".into()]),
        ("packages.0.name", |f| {
            f.spec.packages[0].name = "nginx; rm -rf /".into()
        }),
        ("scripts.0.name", |f| {
            f.spec.scripts[0].name = "../x.sh".into()
        }),
        ("root_password", |f| {
            f.root_password = "1234".into();
            f.root_password_confirm = "1234".into();
        }),
        ("root_password_confirm", |f| {
            f.root_password_confirm = "something else".into()
        }),
        ("node_id", |f| f.spec.node_id = NodeId(uuid::Uuid::nil())),
    ];
    for (field, spoil) in cases {
        let mut form = s.form(150);
        spoil(&mut form);
        let (status, body) = s.create(&form).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert!(
            body["fields"][field].is_string(),
            "{field} should be named: {body}"
        );
    }
    assert!(s.rows().await.is_empty());
    assert!(s.queued_jobs().await.is_empty());

    // A node that is not registered (any more) is an error on the node field.
    let mut form = s.form(150);
    form.spec.node_id = NodeId::new_random();
    let (_, body) = s.create(&form).await;
    assert!(body["fields"]["node_id"].is_string(), "{body}");
    assert!(s.rows().await.is_empty());
    s.sim.shutdown().await;
}

#[tokio::test]
async fn a_vmid_taken_on_the_node_or_by_our_own_creating_container_is_refused() {
    let s = Setup::start().await;
    s.create_on_node(170).await;

    let (_, status) = s
        .call(
            "/api/resources/vmid",
            json!({"node_id": s.node, "vmid": 170}),
        )
        .await;
    assert_eq!(status["free"], json!(false), "{status}");
    assert!(status["reason"].as_str().unwrap().contains("170"));

    let (code, body) = s.create(&s.form(170)).await;
    assert_ne!(code, 200, "{body}");
    let message = body["fields"]["vmid"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(message.contains("already used"), "{message}");
    assert!(s.rows().await.is_empty());

    // A container we are still creating holds its VMID before Proxmox knows about it.
    let (code, _) = s.create(&s.form(171)).await;
    assert_eq!(code, 200);
    let (_, status) = s
        .call(
            "/api/resources/vmid",
            json!({"node_id": s.node, "vmid": 171}),
        )
        .await;
    assert_eq!(status["free"], json!(false), "{status}");
    let (code, body) = s.create(&s.form(171)).await;
    assert_ne!(code, 200, "{body}");
    assert!(body["fields"]["vmid"].is_string(), "{body}");
    assert_eq!(s.rows().await.len(), 1);

    let (_, status) = s
        .call(
            "/api/resources/vmid",
            json!({"node_id": s.node, "vmid": 172}),
        )
        .await;
    assert_eq!(status["free"], json!(true), "{status}");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn deploying_twice_with_the_same_request_key_creates_one_container() {
    let s = Setup::start().await;
    let form = s.form(180);
    // Two clicks at once…
    let (first, second) = tokio::join!(s.create(&form), s.create(&form));
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(second.0, 200, "{}", second.1);
    assert_eq!(first.1, second.1);
    // …and one more after the first finished.
    let (code, third) = s.create(&form).await;
    assert_eq!(code, 200);
    assert_eq!(third, first.1);

    assert_eq!(s.rows().await.len(), 1);
    assert_eq!(s.queued_jobs().await.len(), 1);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn two_deploys_of_one_vmid_at_once_create_one_container() {
    let s = Setup::start().await;
    let (a, b) = (s.form(185), s.form(185));
    let (first, second) = tokio::join!(s.create(&a), s.create(&b));
    let mut codes = [first.0, second.0];
    codes.sort();
    assert_eq!(codes[0], 200, "{} / {}", first.1, second.1);
    assert_ne!(codes[1], 200, "{} / {}", first.1, second.1);
    let refused = if first.0 == 200 { &second.1 } else { &first.1 };
    assert!(refused["fields"]["vmid"].is_string(), "{refused}");
    assert_eq!(s.rows().await.len(), 1);
    assert_eq!(s.queued_jobs().await.len(), 1);

    let (_, body) = s
        .call(
            "/api/resources/vmid",
            json!({"node_id": s.node, "vmid": 99}),
        )
        .await;
    assert!(body["fields"]["vmid"].is_string(), "{body}");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn with_redis_down_deploy_fails_clearly_and_leaves_no_row() {
    let s = Setup::start().await;
    let redis = PrivateRedis::start();
    let broken_redis = backend::redis::connect(&redis.url).await.unwrap();
    let broken = with_queue(
        &s.app,
        backend::queue::Queue::with_keys(
            broken_redis,
            backend::queue::QueueKeys::namespaced(&testkit::unique("down")),
        ),
    )
    .await;
    drop(redis);

    let (client, _) = broken.logged_in().await;
    let form = s.form(190);
    let (status, body) = broken
        .call(&client, "/api/containers/create", json!({ "form": form }))
        .await;
    assert_eq!(status, 503, "{body}");
    let message = testkit::server::message_if(&body, "unavailable")
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(message.contains("job queue"), "{message}");
    assert!(s.rows().await.is_empty(), "a row was left behind");

    // Once the queue is back the same form goes through.
    let (status, body) = s.create(&form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.rows().await.len(), 1);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn every_wizard_call_needs_a_session() {
    let s = Setup::start().await;
    let anonymous = s.app.client();
    for (path, body) in [
        ("/api/containers/create", json!({ "form": s.form(150) })),
        ("/api/resources/node", json!({ "node_id": s.node })),
        (
            "/api/resources/vmid",
            json!({ "node_id": s.node, "vmid": 150 }),
        ),
    ] {
        let (status, answer) = s.app.call(&anonymous, path, body).await;
        assert_eq!(status, 401, "{path}: {answer}");
    }
    assert!(s.rows().await.is_empty());
    s.sim.shutdown().await;
}

#[tokio::test]
async fn the_node_lists_what_the_configure_step_offers() {
    let s = Setup::start().await;
    let (status, found) = s
        .call("/api/resources/node", json!({ "node_id": s.node }))
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["pve_node"], json!("pve"));
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Only storages that take container root disks: not `local` (templates, ISOs).
    assert_eq!(names(&found["storages"]), ["local-lvm"]);
    assert!(
        found["os_templates"]
            .as_array()
            .unwrap()
            .contains(&json!(DEBIAN)),
        "{found}"
    );
    assert_eq!(names(&found["bridges"]), ["vmbr0"]);
    let next = found["next_vmid"].as_u64().unwrap() as u32;
    assert!(next >= 100);

    // Taken on the node: the next free one moves on.
    s.create_on_node(next).await;
    let (_, found) = s
        .call("/api/resources/node", json!({ "node_id": s.node }))
        .await;
    let after_node = found["next_vmid"].as_u64().unwrap() as u32;
    assert_ne!(after_node, next);

    // Held by a container we are creating: skipped as well.
    let (code, _) = s.create(&s.form(after_node)).await;
    assert_eq!(code, 200);
    let (_, found) = s
        .call("/api/resources/node", json!({ "node_id": s.node }))
        .await;
    let after_ours = found["next_vmid"].as_u64().unwrap() as u32;
    assert!(after_ours != after_node && after_ours != next, "{found}");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_node_gives_a_clear_error_and_deploy_stores_nothing() {
    let s = Setup::start().await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    let gone = register_node(&s.app, &s.client, "gone", &addr, &s.sim.fingerprint).await;

    let (status, body) = s
        .call("/api/resources/node", json!({ "node_id": gone }))
        .await;
    assert_eq!(status, 503, "{body}");
    let message = testkit::server::message_if(&body, "unavailable")
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        message.contains("Cannot reach Proxmox node 'gone'"),
        "{message}"
    );

    let mut form = s.form(150);
    form.spec.node_id = gone;
    let (status, body) = s.create(&form).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        testkit::server::message_if(&body, "unavailable")
            .as_str()
            .unwrap()
            .contains("gone"),
        "{body}"
    );
    assert!(s.rows().await.is_empty());
    s.sim.shutdown().await;
}

/// A second server on the same database whose job queue is `queue`.
async fn with_queue(app: &TestApp, queue: backend::queue::Queue) -> TestApp {
    let ctx = app::ssr::ServerContext {
        queue,
        ..app.ctx.clone()
    };
    let url = server::spawn_on_loopback(ctx.clone(), &testkit::site_root())
        .await
        .unwrap();
    TestApp {
        url,
        ctx,
        database_url: app.database_url.clone(),
    }
}

/// A Redis server of this test's own, to stop when the test needs Redis down.
struct PrivateRedis {
    child: std::process::Child,
    url: String,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        PrivateRedis {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
