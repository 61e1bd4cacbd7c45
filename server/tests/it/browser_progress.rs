//! The progress page, the container page and the list in headless Chromium, with progress
//! events written by the product's `EventSink` (the worker's writer) into a real PostgreSQL and
//! Redis.

use backend::crypto::Purpose;
use backend::events::{EventSink, SinkConfig};
use backend::models::event::EventRow;
use backend::models::{ContainerRow, CredentialRow, NewNode, NodeRow, ServiceRow};
use domain::container::{Credential, Lifecycle, Phase, ServiceInfo};
use domain::event::{EventKind, LogStream, ProgressEvent, ScriptProgress};
use domain::spec::ContainerDraft;
use domain::{ContainerId, NodeId};
use fantoccini::Locator;
use std::time::Duration;
use testkit::browser::{
    click_link, click_xpath, log_sequence_numbers, open, screenshot, wait_for, wait_for_path,
    wait_until,
};
use testkit::server::TestApp;
use testkit::server::browser::{log_in_to, sideways_overflow, text_of, wait_for_lines};

const PASSWORD: &str = "correct horse battery";
const DB_PASSWORD: &str = "pg-Secret-7731";

/// A node nothing answers for; on loopback (port 1, closed), because the pages' live status
/// asks it.
async fn node(app: &TestApp) -> NodeId {
    let mut conn = app.ctx.db.get().await.unwrap();
    NodeRow::insert(
        &mut conn,
        &NewNode {
            name: "pve-home".into(),
            host: "127.0.0.1".into(),
            port: 1,
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
    let spec = testkit::fixtures::checked(&ContainerDraft {
        template_name: Some("Web server".into()),
        ..testkit::fixtures::draft(node, 120, hostname)
    });
    let mut conn = app.ctx.db.get().await.unwrap();
    testkit::fixtures::container(&mut conn, &spec, lifecycle).await
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
    log_in_to(&client, &app, &user, PASSWORD, &page).await;
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
    log_in_to(
        &client,
        &app,
        &user,
        PASSWORD,
        &format!("/containers/{id}/progress"),
    )
    .await;
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
    log_in_to(&client, &app, &user, PASSWORD, &format!("/containers/{id}")).await;
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
    log_in_to(&client, &app, &user, PASSWORD, "/containers").await;
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
