//! The progress page, the container page and the list in headless Chromium, with progress
//! events written by the product's `EventSink` (the worker's writer) into a real PostgreSQL and
//! Redis.

mod common;

use backend::crypto::Purpose;
use backend::events::{EventSink, SinkConfig};
use backend::models::event::EventRow;
use backend::models::{ContainerRow, CredentialRow, NewContainer, NewNode, NodeRow, ServiceRow};
use common::TestApp;
use common::browser::{sideways_overflow, submit_login, text_of};
use domain::container::{Credential, Lifecycle, Phase, ServiceInfo};
use domain::event::{EventKind, LogStream, ProgressEvent, ScriptProgress};
use domain::spec::ContainerSpec;
use domain::{ContainerId, NodeId};
use fantoccini::{Client, Locator};
use std::time::Duration;
use testkit::browser::{
    click_button, click_link, click_xpath, log_sequence_numbers, open, screenshot, wait_for,
    wait_for_path, wait_for_shown_text, wait_for_text, wait_until,
};

const PASSWORD: &str = "correct horse battery";
const DB_PASSWORD: &str = "pg-Secret-7731";

/// Opens `path`, which sends the visitor to the login page, logs in, and waits for `path`.
async fn log_in_to(client: &Client, app: &TestApp, user: &str, path: &str) {
    client.goto(&format!("{}{path}", app.url)).await.unwrap();
    submit_login(client, user, PASSWORD).await;
    wait_for_path(client, path).await;
}

/// Waits until the log viewer holds `count` lines.
async fn wait_for_lines(client: &Client, count: i64) {
    wait_until(
        client,
        &format!("{count} log lines"),
        &format!(
            "const v = document.querySelector('[data-testid=log-viewport]'); \
             return !!v && v.dataset.count === '{count}';"
        ),
    )
    .await;
}

async fn node(app: &TestApp) -> NodeId {
    let mut conn = app.ctx.db.get().await.unwrap();
    NodeRow::insert(
        &mut conn,
        &NewNode {
            name: "pve-home".into(),
            host: "192.0.2.10".into(),
            port: 8006,
            token_id: "root@pam!infrahaus".into(),
            token_secret_enc: Some(app.ctx.secrets.seal_str(Purpose::NodeTokenSecret, "x")),
            tls_fingerprint: None,
            ssh_port: 22,
        },
    )
    .await
    .unwrap()
    .id
}

async fn container(
    app: &TestApp,
    node: NodeId,
    hostname: &str,
    lifecycle: Lifecycle,
) -> ContainerId {
    let spec = ContainerSpec {
        node_id: node,
        template_name: Some("Web server".into()),
        hostname: hostname.into(),
        vmid: 120,
        storage: "local-lvm".into(),
        os_template: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst".into(),
        bridge: "vmbr0".into(),
        ..ContainerSpec::default()
    };
    let mut conn = app.ctx.db.get().await.unwrap();
    ContainerRow::insert(
        &mut conn,
        &NewContainer {
            id: ContainerId::new_random(),
            node_id: node,
            template_id: None,
            vmid: 120,
            hostname: hostname.into(),
            lifecycle,
            config: serde_json::to_value(spec).unwrap(),
            root_password_enc: None,
            created_by: None,
        },
    )
    .await
    .unwrap()
    .id
}

async fn sink(app: &TestApp, id: ContainerId) -> EventSink {
    EventSink::open(
        app.ctx.db.clone(),
        app.ctx.redis.clone(),
        id,
        SinkConfig::default(),
    )
    .await
    .unwrap()
}

async fn stored_events(app: &TestApp, id: ContainerId) -> i64 {
    let mut conn = app.ctx.db.get().await.unwrap();
    EventRow::count(&mut conn, id).await.unwrap()
}

/// The first phases of a run: create, start, deploy with a stderr line.
async fn first_half(sink: &EventSink) {
    sink.step(Phase::Create, 2, "Creating container 120")
        .await
        .unwrap();
    for i in 0..5 {
        sink.log(LogStream::Stdout, &format!("extracting archive part {i}"))
            .await
            .unwrap();
    }
    sink.step(Phase::Start, 22, "Starting the container")
        .await
        .unwrap();
    sink.step(Phase::Deploy, 40, "Deploying files")
        .await
        .unwrap();
    sink.log(
        LogStream::Stderr,
        "warning: setlocale: LC_ALL: cannot change locale",
    )
    .await
    .unwrap();
    sink.flush().await.unwrap();
}

/// One of the two Sync scripts, with 30 lines of output written over a little while.
async fn sync_script(sink: &EventSink, index: u32) {
    let name = ["10-base.sh", "20-postgres.sh"][index as usize - 1];
    let script = ScriptProgress {
        name: name.into(),
        index,
        total: 2,
    };
    sink.script_step(
        Phase::Sync,
        60 + 10 * index as u8,
        &format!("Running {name}"),
        script,
    )
    .await
    .unwrap();
    for i in 0..30 {
        sink.log(LogStream::Stdout, &format!("{name}: line {i}"))
            .await
            .unwrap();
        if i % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Sync with both scripts, then the end of the run.
async fn second_half(app: &TestApp, id: ContainerId, sink: &EventSink) {
    sync_script(sink, 1).await;
    sync_script(sink, 2).await;
    finish(app, id, sink).await;
}

/// Finalize, and the results the worker records.
async fn finish(app: &TestApp, id: ContainerId, sink: &EventSink) {
    sink.step(Phase::Finalize, 92, "Finding services")
        .await
        .unwrap();
    let mut conn = app.ctx.db.get().await.unwrap();
    ServiceRow::replace_all(
        &mut conn,
        id,
        &[
            ServiceInfo {
                name: "postgresql".into(),
                port: Some(5432),
                protocol: "tcp".into(),
                url: None,
            },
            ServiceInfo {
                name: "nginx".into(),
                port: Some(80),
                protocol: "tcp".into(),
                url: Some("http://192.168.1.50:80/".into()),
            },
        ],
    )
    .await
    .unwrap();
    CredentialRow::replace_all(
        &mut conn,
        &app.ctx.secrets,
        id,
        &[Credential {
            name: "postgres-password".into(),
            value: DB_PASSWORD.into(),
        }],
    )
    .await
    .unwrap();
    sink.complete("Container ready", &serde_json::json!({}))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_progress_page_follows_a_creation_to_ready_across_a_reload() {
    let app = TestApp::start().await;
    let user = app.user(PASSWORD).await;
    let node = node(&app).await;
    let id = container(&app, node, "web-1", Lifecycle::Creating).await;
    let page = format!("/containers/{id}/progress");
    let client = open(1280, 900).await;
    log_in_to(&client, &app, &user, &page).await;
    wait_until(
        &client,
        "the hostname in the heading",
        "return document.querySelector('h1')?.textContent === 'Creating web-1';",
    )
    .await;

    let sink = sink(&app, id).await;
    first_half(&sink).await;
    let halfway = stored_events(&app, id).await;
    wait_for_lines(&client, halfway).await;
    // Live: the stepper shows Deploy running, Create and Start done.
    let state = |phase: &'static str| {
        let client = client.clone();
        async move {
            client
                .find(Locator::Css(&format!("[data-phase={phase}]")))
                .await
                .unwrap()
                .attr("class")
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert!(state("create").await.contains("step-done"));
    assert!(state("deploy").await.contains("step-running"));
    assert!(state("sync").await.contains("step-waiting"));
    assert_eq!(text_of(&client, "[data-testid=percent]").await, "40%");
    assert_eq!(
        client
            .find(Locator::Css("#creation-progress"))
            .await
            .unwrap()
            .attr("value")
            .await
            .unwrap()
            .as_deref(),
        Some("40")
    );
    // stderr is marked with a word, not only a colour.
    let stderr = wait_for(&client, ".log-stderr").await;
    assert!(stderr.text().await.unwrap().contains("stderr"));
    screenshot(&client, "progress-running-1280.png").await;

    // Sync shows the running script and n of m.
    sync_script(&sink, 1).await;
    wait_until(
        &client,
        "the running script",
        "return document.querySelector('[data-testid=script-progress]')?.textContent === 'Script 1 of 2: 10-base.sh';",
    )
    .await;

    // Reload while the worker writes the second script's output.
    let writer = async {
        sync_script(&sink, 2).await;
        finish(&app, id, &sink).await;
    };
    let reload = async { client.refresh().await.unwrap() };
    tokio::join!(writer, reload);

    let total = stored_events(&app, id).await;
    wait_for_lines(&client, total).await;
    wait_for(&client, "[data-testid=complete-panel]").await;
    assert_eq!(
        text_of(&client, "[data-testid=stream-status]").await,
        "Complete"
    );
    for phase in ["create", "start", "deploy", "sync", "finalize"] {
        assert!(state(phase).await.contains("step-done"), "{phase}");
    }
    assert_eq!(text_of(&client, "[data-testid=percent]").await, "100%");

    // Every event once, in order, none missing after the reload.
    let (seen, broken) = log_sequence_numbers(&client).await;
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
    assert_eq!(broken, 0, "a view of the log had a gap or a double");
    let last_seq = client
        .find(Locator::Css("[data-testid=log-viewport]"))
        .await
        .unwrap()
        .attr("data-last-seq")
        .await
        .unwrap();
    assert_eq!(last_seq, Some(total.to_string()));

    // Services, and the credential hidden until shown.
    let services = text_of(&client, "[data-testid=services]").await;
    assert!(
        services.contains("postgresql") && services.contains("5432/tcp"),
        "{services}"
    );
    let link = client
        .find(Locator::Css("[data-testid=services] a"))
        .await
        .unwrap();
    assert_eq!(
        link.attr("href").await.unwrap().as_deref(),
        Some("http://192.168.1.50:80/")
    );
    let value = text_of(
        &client,
        "[data-credential=postgres-password] [data-testid=credential-value]",
    )
    .await;
    assert!(!value.contains(DB_PASSWORD));
    click_xpath(
        &client,
        "//li[@data-credential='postgres-password']//button[text()='Show']",
    )
    .await;
    wait_until(
        &client,
        "the revealed value",
        &format!(
            "return document.querySelector('[data-credential=postgres-password] code')?.textContent === {DB_PASSWORD:?};"
        ),
    )
    .await;
    click_xpath(
        &client,
        "//li[@data-credential='postgres-password']//button[text()='Copy']",
    )
    .await;
    wait_until(
        &client,
        "the copy result",
        "return !!document.querySelector('[data-credential=postgres-password] [role=status]')?.textContent;",
    )
    .await;
    let copied = text_of(&client, "[data-credential=postgres-password] [role=status]").await;
    assert_eq!(copied, "Copied.");
    screenshot(&client, "progress-complete-1280.png").await;

    // The container's page is linked.
    click_xpath(&client, "//a[text()=\"Open the container's page\"]").await;
    wait_for_path(&client, &format!("/containers/{id}")).await;
    assert!(
        text_of(&client, "[data-testid=config]")
            .await
            .contains("local-lvm")
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_failed_creation_shows_its_error_and_retry_carries_on() {
    let app = TestApp::start().await;
    let user = app.user(PASSWORD).await;
    let node = node(&app).await;
    let id = container(&app, node, "web-2", Lifecycle::Creating).await;
    let sink = sink(&app, id).await;
    first_half(&sink).await;
    sink.error("Could not connect to the container over SSH.")
        .await
        .unwrap();
    sink.close().await.unwrap();

    let client = open(390, 844).await;
    log_in_to(&client, &app, &user, &format!("/containers/{id}/progress")).await;
    wait_for(&client, "[data-testid=failed-panel]").await;
    assert_eq!(
        text_of(&client, "[data-testid=failure-message]").await,
        "Could not connect to the container over SSH."
    );
    let deploy = client
        .find(Locator::Css("[data-phase=deploy]"))
        .await
        .unwrap();
    assert!(
        deploy
            .attr("class")
            .await
            .unwrap()
            .unwrap()
            .contains("step-failed")
    );
    let overflow = sideways_overflow(&client).await;
    assert!(
        overflow <= 0,
        "the page scrolls sideways on a phone by {overflow}px"
    );
    screenshot(&client, "progress-failed-phone.png").await;

    click_xpath(&client, "//button[text()='Retry creation']").await;
    // The retry is recorded after the error, and the page goes live again.
    let retried = stored_events(&app, id).await;
    wait_for_lines(&client, retried).await;
    wait_until(
        &client,
        "the failed panel to go",
        "return !document.querySelector('[data-testid=failed-panel]');",
    )
    .await;
    let mut conn = app.ctx.db.get().await.unwrap();
    assert_eq!(
        ContainerRow::find(&mut conn, id).await.unwrap().lifecycle,
        Lifecycle::Creating
    );
    drop(conn);

    // The worker resumes: the page follows to the end.
    let sink = self::sink(&app, id).await;
    second_half(&app, id, &sink).await;
    wait_for(&client, "[data-testid=complete-panel]").await;
    let total = stored_events(&app, id).await;
    wait_for_lines(&client, total).await;
    let (seen, broken) = log_sequence_numbers(&client).await;
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
    assert_eq!(broken, 0);
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_log_of_100000_lines_renders_only_what_is_visible_and_follows_on_request() {
    let app = TestApp::start().await;
    let user = app.user(PASSWORD).await;
    let node = node(&app).await;
    let id = container(&app, node, "big-1", Lifecycle::Ready).await;
    let at = chrono::Utc::now();
    let lines = 100_000_i64;
    let mut events: Vec<ProgressEvent> = (1..=lines)
        .map(|seq| ProgressEvent {
            seq,
            kind: EventKind::Log,
            phase: Phase::Sync,
            percent: 70,
            message: format!("build output line {seq}"),
            stream: Some(if seq % 1000 == 0 {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            }),
            script: None,
            at,
        })
        .collect();
    events.push(ProgressEvent {
        seq: lines + 1,
        kind: EventKind::Complete,
        phase: Phase::Finalize,
        percent: 100,
        message: "Container ready".into(),
        stream: None,
        script: None,
        at,
    });
    {
        let mut conn = app.ctx.db.get().await.unwrap();
        EventRow::insert_batch(&mut conn, id, &events)
            .await
            .unwrap();
    }

    let client = open(1280, 900).await;
    log_in_to(&client, &app, &user, &format!("/containers/{id}")).await;
    wait_for_lines(&client, lines + 1).await;
    let rendered = client
        .execute(
            "return document.querySelectorAll('.log-line').length;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        (1..200).contains(&rendered.as_i64().unwrap()),
        "{rendered} rows in the document"
    );
    // Following: the last line is in view.
    wait_for(&client, &format!(".log-line[data-seq='{}']", lines + 1)).await;

    // Scrolling up stops following; "Follow log" goes back to the end.
    client
        .execute(
            "const v = document.querySelector('[data-testid=log-viewport]'); v.scrollTop = 20 * 500; v.dispatchEvent(new Event('scroll'));",
            vec![],
        )
        .await
        .unwrap();
    wait_for(&client, ".log-line[data-seq='500']").await;
    click_xpath(&client, "//button[text()='Follow log']").await;
    wait_for(&client, &format!(".log-line[data-seq='{}']", lines + 1)).await;
    wait_until(
        &client,
        "the Follow log button to go",
        "return !document.querySelector('[data-testid=follow-log]');",
    )
    .await;
    screenshot(&client, "container-big-log-1280.png").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_container_list_and_dashboard_show_containers_with_their_state() {
    let app = TestApp::start().await;
    let user = app.user(PASSWORD).await;
    let node = node(&app).await;
    container(&app, node, "web-1", Lifecycle::Ready).await;
    container(&app, node, "db-1", Lifecycle::Error).await;
    let client = open(1280, 900).await;
    log_in_to(&client, &app, &user, "/containers").await;
    let table = text_of(&client, "[data-testid=container-table]").await;
    for expected in [
        "web-1",
        "db-1",
        "pve-home",
        "Ready",
        "Failed",
        "Web server",
        "120",
    ] {
        assert!(table.contains(expected), "{expected} missing in {table}");
    }
    let create = client
        .find(Locator::LinkText("Create container"))
        .await
        .unwrap();
    assert_eq!(
        create.attr("href").await.unwrap().as_deref(),
        Some("/containers/new")
    );
    screenshot(&client, "containers-1280.png").await;

    click_link(&client, "Dashboard").await;
    wait_for(&client, "#recent-heading").await;
    wait_until(
        &client,
        "recent containers on the dashboard",
        "const t = document.querySelector('[data-testid=container-table]'); return !!t && t.textContent.includes('web-1');",
    )
    .await;
    client.close().await.unwrap();
}

/// The real worker (runner and pipeline) against the simulator, on the test app's database,
/// Redis and queue; stopped when dropped.
struct RealWorker {
    sim: pvesim::SimHandle,
    node: NodeId,
    shutdown: tokio_util::sync::CancellationToken,
    _dir: tempfile::TempDir,
}

impl RealWorker {
    async fn start(app: &TestApp) -> RealWorker {
        use remote_shell::{DeployKey, RetryPolicy};
        use worker::{Pipeline, PipelineSettings, Runner, RunnerConfig};
        let dir = tempfile::tempdir().unwrap();
        let deploy_key = DeployKey::load_or_create(&dir.path().join("deploy_ed25519")).unwrap();
        let sim = pvesim::Simulator::start(
            pvesim::SimConfig::builder()
                .token(SIM_TOKEN_ID, SIM_TOKEN_SECRET)
                .node_ssh_authorized_key(deploy_key.public_openssh())
                .build(),
        )
        .await
        .expect("the simulator starts (is bubblewrap installed?)");
        let node = {
            let mut conn = app.ctx.db.get().await.unwrap();
            NodeRow::insert(
                &mut conn,
                &NewNode {
                    name: "pve".into(),
                    host: "127.0.0.1".into(),
                    port: i32::from(sim.api_addr.port()),
                    token_id: SIM_TOKEN_ID.into(),
                    token_secret_enc: Some(
                        app.ctx
                            .secrets
                            .seal_str(Purpose::NodeTokenSecret, SIM_TOKEN_SECRET),
                    ),
                    tls_fingerprint: Some(sim.fingerprint.clone()),
                    ssh_port: i32::from(sim.node_ssh_addr.expect("node ssh").port()),
                },
            )
            .await
            .unwrap()
            .id
        };
        let settings = PipelineSettings {
            container_ssh_port: sim.ssh_port,
            ssh_retry: RetryPolicy::from_delays(vec![
                Duration::from_millis(200),
                Duration::from_millis(400),
                Duration::from_millis(800),
            ]),
            node_ssh_retry: RetryPolicy::from_delays(vec![Duration::from_millis(200)]),
            task_poll: Duration::from_millis(100),
            dhcp_poll: Duration::from_millis(100),
            ..PipelineSettings::default()
        };
        let pipeline = Pipeline::new(
            app.ctx.db.clone(),
            app.ctx.redis.clone(),
            app.ctx.secrets.clone(),
            deploy_key,
            settings,
        );
        let dedicated = backend::redis::connect(&testkit::redis_url())
            .await
            .unwrap();
        let reader = backend::queue::Reader::new(app.ctx.queue.clone(), dedicated);
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(Runner::new(reader, pipeline, RunnerConfig::new(1)).run(shutdown.clone()));
        RealWorker {
            sim,
            node,
            shutdown,
            _dir: dir,
        }
    }

    /// Lets the build script of [`worker_spec`] in container `vmid` go past step 10.
    fn release_build(&self, vmid: u32) {
        let tmp = self.sim.container_root(vmid).join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::write(tmp.join(BUILD_GATE), "").unwrap();
    }

    /// Inserts and queues a container the way the create function does.
    async fn create(&self, app: &TestApp, spec: &ContainerSpec) -> ContainerId {
        let id = ContainerId::new_random();
        let mut conn = app.ctx.db.get().await.unwrap();
        ContainerRow::insert(
            &mut conn,
            &NewContainer {
                id,
                node_id: self.node,
                template_id: None,
                vmid: i32::try_from(spec.vmid).unwrap(),
                hostname: spec.hostname.clone(),
                lifecycle: Lifecycle::Creating,
                config: serde_json::to_value(spec).unwrap(),
                root_password_enc: Some(
                    app.ctx
                        .secrets
                        .seal_str(Purpose::RootPassword, "Root-Pw-5521"),
                ),
                created_by: None,
            },
        )
        .await
        .unwrap();
        app.ctx
            .queue
            .enqueue(&backend::queue::Job { container_id: id })
            .await
            .unwrap();
        id
    }
}

impl Drop for RealWorker {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

const SIM_TOKEN_ID: &str = "root@pam!ci";
const SIM_TOKEN_SECRET: &str = "5f0c2a0e-7c39-4e43-9d67-1b3c6f1f0a11";
const WORKER_CREDENTIAL: &str = "Admin-Cred-40d2";
/// The file in the container's `/tmp` the build script waits for after step 10.
const BUILD_GATE: &str = "build-may-continue";

/// A spec the worker can build on the simulator: a static loopback address the simulator serves
/// the container's sshd on, a script that writes 150 lines (with one stderr line), pausing after
/// the 10th until the test calls [`RealWorker::release_build`] (a minute at most), and one that
/// leaves a credential.
fn worker_spec(node: NodeId) -> ContainerSpec {
    use domain::spec::Ipv4Setup;
    use domain::template::Script;
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let cidr = format!(
        "127.{}.{}.{}/24",
        200 + bytes[0] % 50,
        bytes[1],
        2 + bytes[2] % 250
    );
    let script = |name: &str, content: &str| Script {
        name: name.into(),
        description: String::new(),
        content: content.into(),
        enabled: true,
    };
    ContainerSpec {
        node_id: node,
        template_name: Some("Slow builder".into()),
        hostname: "build-1".into(),
        vmid: 160,
        storage: "local-lvm".into(),
        os_template: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst".into(),
        bridge: "vmbr0".into(),
        ipv4: Ipv4Setup::Static {
            cidr,
            gateway: None,
        },
        scripts: vec![
            script(
                "10-build.sh",
                &format!(
                    "#!/bin/sh\nset -eu\necho 'compiler warning: unused variable' >&2\ni=1\nwhile [ $i -le 150 ]; do\n  echo \"building step $i\"\n  if [ $i -eq 10 ]; then\n    n=0\n    while [ ! -e /tmp/{BUILD_GATE} ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done\n  fi\n  sleep 0.02\n  i=$((i+1))\ndone\n"
                ),
            ),
            script(
                "20-credential.sh",
                &format!(
                    "#!/bin/sh\nset -eu\numask 077\nmkdir -p /etc/infrahaus/credentials\nprintf '%s\\n' '{WORKER_CREDENTIAL}' > /etc/infrahaus/credentials/admin-password\necho 'credential written'\n"
                ),
            ),
        ],
        ..ContainerSpec::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_worker_creates_a_container_the_page_follows_to_ready_across_a_reload() {
    let app = TestApp::start().await;
    let user = app.user(PASSWORD).await;
    let worker = RealWorker::start(&app).await;
    let id = worker.create(&app, &worker_spec(worker.node)).await;
    let client = open(1280, 900).await;
    log_in_to(&client, &app, &user, &format!("/containers/{id}/progress")).await;

    // Mid-run: the build script is printing; reload.
    wait_until(
        &client,
        "the build script's output",
        "return [...document.querySelectorAll('.log-line')].some(l => l.textContent.includes('building step 10'));",
    )
    .await;
    assert!(
        text_of(&client, "[data-testid=script-progress]")
            .await
            .starts_with("Script 1 of 2: 10-build.sh")
    );
    {
        let mut conn = app.ctx.db.get().await.unwrap();
        let row = ContainerRow::find(&mut conn, id).await.unwrap();
        assert_eq!(row.lifecycle, Lifecycle::Creating, "the reload is mid-run");
    }
    client.refresh().await.unwrap();
    worker.release_build(worker_spec(worker.node).vmid);

    wait_for(&client, "[data-testid=complete-panel]").await;
    let mut conn = app.ctx.db.get().await.unwrap();
    let row = ContainerRow::find(&mut conn, id).await.unwrap();
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{:?}", row.error_message);
    let total = EventRow::count(&mut conn, id).await.unwrap();
    drop(conn);
    wait_for_lines(&client, total).await;
    let (seen, broken) = log_sequence_numbers(&client).await;
    assert_eq!(
        seen,
        (1..=total).collect::<Vec<_>>(),
        "missing or doubled lines"
    );
    assert_eq!(broken, 0);
    // The stderr line is there, marked.
    // Only the rows in view are in the document: scroll to the top, where it is.
    wait_until(
        &client,
        "the stderr line",
        "const v = document.querySelector('[data-testid=log-viewport]'); v.scrollTop = 0; v.dispatchEvent(new Event('scroll')); return [...document.querySelectorAll('.log-stderr')].some(l => l.textContent.includes('unused variable') && l.textContent.includes('stderr'));",
    )
    .await;

    // Reveal and copy the credential the script left.
    click_xpath(
        &client,
        "//li[@data-credential='admin-password']//button[text()='Show']",
    )
    .await;
    wait_until(
        &client,
        "the revealed credential",
        &format!(
            "return document.querySelector('[data-credential=admin-password] code')?.textContent === {WORKER_CREDENTIAL:?};"
        ),
    )
    .await;
    click_xpath(
        &client,
        "//li[@data-credential='admin-password']//button[text()='Copy']",
    )
    .await;
    wait_until(
        &client,
        "the copy result",
        "return !!document.querySelector('[data-credential=admin-password] [role=status]')?.textContent;",
    )
    .await;
    assert_eq!(
        text_of(&client, "[data-credential=admin-password] [role=status]").await,
        "Copied."
    );
    // Paste it into a text box, as the user would.
    client
        .execute(
            "const t = document.createElement('textarea'); t.id = 'paste-here'; document.body.append(t);",
            vec![],
        )
        .await
        .unwrap();
    let paste = wait_for(&client, "#paste-here").await;
    paste.click().await.unwrap();
    paste.send_keys("\u{E009}v\u{E009}").await.unwrap();
    let pasted = client
        .execute(
            "return document.querySelector('#paste-here').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(pasted.as_str().map(str::trim_end), Some(WORKER_CREDENTIAL));
    client
        .execute("document.querySelector('#paste-here').remove();", vec![])
        .await
        .unwrap();
    screenshot(&client, "progress-real-worker-1280.png").await;
    client.close().await.unwrap();
    drop(worker);
}

// Cancelling creations from the progress page, with the real worker (one job at a time): a
// queued creation (the page first says it waits for a worker), one whose create task runs on
// the node, and one running a script. Each ends cancelled as the page says; Delete and Retry
// work from there.

/// [`worker_spec`] under another VMID and hostname.
fn cancel_spec(node: NodeId, vmid: u32) -> ContainerSpec {
    ContainerSpec {
        vmid,
        hostname: format!("cancel-{vmid}"),
        ..worker_spec(node)
    }
}

async fn lifecycle(app: &TestApp, id: ContainerId) -> (Lifecycle, Option<String>) {
    let mut conn = app.ctx.db.get().await.unwrap();
    let row = ContainerRow::find(&mut conn, id).await.unwrap();
    (row.lifecycle, row.error_message)
}

/// Presses "Cancel creation" and confirms.
async fn cancel(client: &Client) {
    click_button(client, "Cancel creation").await;
    wait_for_text(client, "[role=alert]", "Stop this creation?").await;
    click_button(client, "Yes, cancel it").await;
}

async fn open_progress(client: &Client, app: &TestApp, id: ContainerId) {
    let path = format!("/containers/{id}/progress");
    client.goto(&format!("{}{path}", app.url)).await.unwrap();
    wait_for_path(client, &path).await;
}

async fn cancelled_with(client: &Client, message: &str) {
    wait_for_shown_text(client, "#failed-heading", "Creation cancelled").await;
    wait_for_shown_text(client, "[data-testid=failure-message]", message).await;
    wait_for_shown_text(client, "[data-testid=stream-status]", "Cancelled").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creations_are_cancelled_from_the_progress_page_queued_creating_and_running_scripts() {
    let app = TestApp::start().await;
    let user = app.user(PASSWORD).await;
    let worker = RealWorker::start(&app).await;
    // One job at a time: the first holds the worker in its gated script, the second waits.
    let running = worker.create(&app, &cancel_spec(worker.node, 181)).await;
    let queued = worker.create(&app, &cancel_spec(worker.node, 182)).await;
    let client = open(1280, 900).await;
    client
        .goto(&format!("{}/containers/{running}/progress", app.url))
        .await
        .unwrap();
    submit_login(&client, &user, PASSWORD).await;
    wait_for_path(&client, &format!("/containers/{running}/progress")).await;
    wait_for_text(&client, ".log-line", "building step 10").await;

    // Queued: the page says it waits for a worker; a cancel takes it off the queue at once.
    open_progress(&client, &app, queued).await;
    wait_for_shown_text(&client, "[data-testid=worker-wait]", "Waiting for a worker").await;
    screenshot(&client, "cancel-1-queued-waiting.png").await;
    cancel(&client).await;
    cancelled_with(&client, "Cancelled before it was created.").await;
    assert_eq!(
        lifecycle(&app, queued).await,
        (
            Lifecycle::Error,
            Some("Cancelled before it was created.".into())
        )
    );
    // Delete works from there.
    click_button(&client, "Delete container").await;
    click_button(&client, "Yes, delete it").await;
    wait_for_path(&client, "/containers").await;

    // Running a script: the worker stops after it, at the next checkpoint, and stops the container.
    open_progress(&client, &app, running).await;
    wait_for_text(&client, ".log-line", "building step 10").await;
    cancel(&client).await;
    wait_for_text(
        &client,
        "[role=status]",
        "the worker stops at the next safe point",
    )
    .await;
    worker.release_build(181);
    cancelled_with(
        &client,
        "Cancelled; container 181 exists on node pve, stopped.",
    )
    .await;
    screenshot(&client, "cancel-2-running-scripts.png").await;
    let (state, _) = lifecycle(&app, running).await;
    assert_eq!(state, Lifecycle::Error);
    // Retry works from there: the rest runs and the container is ready.
    click_button(&client, "Retry creation").await;
    wait_for(&client, "[data-testid=complete-panel]").await;
    assert_eq!(lifecycle(&app, running).await, (Lifecycle::Ready, None));
    wait_for_text(&client, ".log-line", "credential written").await;

    // Creating on the node: a slow create task; the cancel is honoured once it ends.
    worker.sim.update_faults(pvesim::FaultsPatch {
        task_delay_ms: [("vzcreate".to_owned(), 4000)].into_iter().collect(),
        ..Default::default()
    });
    let creating = worker.create(&app, &cancel_spec(worker.node, 183)).await;
    open_progress(&client, &app, creating).await;
    wait_for_text(&client, ".log-line", "Creating container 183").await;
    cancel(&client).await;
    cancelled_with(
        &client,
        "Cancelled; container 183 exists on node pve, stopped.",
    )
    .await;
    screenshot(&client, "cancel-3-creating-on-node.png").await;
    click_button(&client, "Delete container").await;
    click_button(&client, "Yes, delete it").await;
    wait_for_path(&client, "/containers").await;
    client.close().await.unwrap();
    drop(worker);
}
