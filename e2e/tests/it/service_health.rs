//! Service health with the real worker (in-process) against the simulator: the check itself
//! (units, ports, journal lines, the way through the node, names that are not unit names,
//! credentials hidden), and the container page in headless Chromium: a fresh container's unit
//! is active and its port listening; after the test kills the service in the container,
//! "Check now" shows it failed with its journal lines; and a page left open refreshes by itself.

use std::time::Duration;

use backend::crypto::Purpose;
use backend::health::HealthChecks;
use backend::models::{ContainerRow, CredentialRow, ServiceRow};
use domain::ContainerId;
use domain::container::{Credential, Lifecycle, ServiceInfo};
use domain::health::{CheckedVia, HealthReport, PortState, UnitState};
use domain::template::{Package, PackageManager};
use e2e::in_process::RealWorker;
use fantoccini::Client;
use remote_shell::{Command, ConnectOptions, DeployKey, ExecOptions, HostKey};
use testkit::browser::{click_button, open, screenshot, wait_until};
use testkit::server::TestApp;
use testkit::server::browser::{log_in_to, sideways_overflow, text_of};

const PASSWORD: &str = "correct horse battery";
/// Scrolls nginx's row into view, for the screenshots.
const SHOW_NGINX: &str = "document.querySelector('[data-service=nginx]').scrollIntoView();";

/// Creates a container with nginx through the real worker and waits until it is ready.
async fn ready_web_server(app: &TestApp, worker: &RealWorker, vmid: u32) -> ContainerId {
    let draft = domain::spec::ContainerDraft {
        template_name: Some("Web server".into()),
        packages: vec![Package {
            name: "nginx".into(),
            manager: PackageManager::Apt,
            version: None,
        }],
        ..testkit::fixtures::draft(worker.node, vmid, "web-1")
    };
    let id = worker.create(app, &draft).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let row = row(app, id).await;
        match row.lifecycle {
            Lifecycle::Ready => return id,
            Lifecycle::Creating => {
                assert!(tokio::time::Instant::now() < deadline, "never ready");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => panic!("the creation ended {other}: {:?}", row.error_message),
        }
    }
}

async fn row(app: &TestApp, id: ContainerId) -> ContainerRow {
    let mut conn = app.ctx.db.get().await.unwrap();
    ContainerRow::find(&mut conn, id).await.unwrap()
}

/// Runs `cmd` in the container as root over its SSH, as a person at its console would.
async fn in_container(app: &TestApp, worker: &RealWorker, id: ContainerId, cmd: Command) {
    let row = row(app, id).await;
    let pem = app
        .ctx
        .secrets
        .open_str(
            Purpose::ContainerSshKey,
            row.ssh_key_enc.as_deref().unwrap(),
        )
        .unwrap();
    let opts = ConnectOptions::new(
        row.ip_address.as_deref().unwrap(),
        worker.sim.ssh_port,
        "root",
        DeployKey::from_openssh(&pem).unwrap(),
    )
    .with_pinned_host_key(Some(
        HostKey::parse(row.ssh_host_key.as_deref().unwrap()).unwrap(),
    ));
    let session = remote_shell::connect(&opts).await.unwrap();
    let out = session
        .exec_capture(&cmd, &ExecOptions::default())
        .await
        .unwrap();
    assert!(out.success(), "{}", out.stderr_lossy());
    session.close().await.unwrap();
}

fn systemctl(args: &[&str]) -> Command {
    Command::new("systemctl").args(args.iter().copied())
}

/// Kills nginx's main process in the container, as a crash would.
async fn kill_nginx(app: &TestApp, worker: &RealWorker, id: ContainerId) {
    in_container(
        app,
        worker,
        id,
        systemctl(&["kill", "--signal=KILL", "nginx"]),
    )
    .await;
}

/// Asks the workers for a check of `id` and waits for its report.
async fn check(app: &TestApp, id: ContainerId) -> HealthReport {
    let checks = HealthChecks::new(app.ctx.redis.clone(), app.ctx.queue.keys().namespace());
    checks.request(id).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = checks.view(id, chrono::Utc::now()).await.unwrap();
        if let (false, Some(report)) = (view.checking, view.report) {
            return report;
        }
        assert!(tokio::time::Instant::now() < deadline, "no report");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_reads_units_ports_and_journals_directly_and_through_the_node() {
    let app = TestApp::start().await;
    let worker = RealWorker::start(&app).await;
    let id = ready_web_server(&app, &worker, 181).await;

    let fresh = check(&app, id).await;
    assert_eq!(
        (fresh.via, &fresh.note, &fresh.problem),
        (Some(CheckedVia::ContainerSsh), &None, &None)
    );
    let nginx = fresh
        .service("nginx", Some(80))
        .expect("nginx was discovered");
    assert_eq!(
        (nginx.unit, nginx.port_state),
        (UnitState::Active, Some(PortState::Listening))
    );
    assert!(nginx.journal.is_empty());
    assert_eq!(fresh.refresh_secs, 180);

    // Killed: failed, its port closed, and the journal says why.
    kill_nginx(&app, &worker, id).await;
    let killed = check(&app, id).await;
    let nginx = killed.service("nginx", Some(80)).unwrap();
    assert_eq!(
        (nginx.unit, nginx.port_state),
        (UnitState::Failed, Some(PortState::Closed))
    );
    let tail: Vec<&str> = nginx
        .journal
        .iter()
        .map(|l| l.split_once(" systemd[1]: ").expect("a journal line").1)
        .collect();
    assert_eq!(
        &tail[tail.len() - 2..],
        [
            "nginx.service: Main process exited, code=killed, status=9/KILL",
            "nginx.service: Failed with result 'signal'."
        ]
    );
    assert!(killed.checked_at >= fresh.checked_at);

    // Stopped cleanly: inactive, no journal shown.
    in_container(
        &app,
        &worker,
        id,
        Command::sh("systemctl start nginx && systemctl stop nginx"),
    )
    .await;
    let stopped = check(&app, id).await;
    let nginx = stopped.service("nginx", Some(80)).unwrap();
    assert_eq!(
        (nginx.unit, nginx.port_state),
        (UnitState::Inactive, Some(PortState::Closed))
    );
    assert!(nginx.journal.is_empty());

    // A unit that logs a credential of the container, and a service whose name is not a unit
    // name (a listening process no unit accounts for, here one built to break a shell).
    let secret = "Leaky-Token-8813";
    {
        let mut conn = app.ctx.db.get().await.unwrap();
        CredentialRow::replace_all(
            &mut conn,
            &app.ctx.secrets,
            id,
            &[Credential {
                name: "api-token".into(),
                value: secret.into(),
            }],
        )
        .await
        .unwrap();
        let service = |name: &str, port| ServiceInfo {
            name: name.into(),
            port,
            protocol: "tcp".into(),
            url: None,
        };
        ServiceRow::replace_all(
            &mut conn,
            id,
            &[
                service("nginx", Some(80)),
                service("leaky", None),
                service("x;touch /tmp/pwned", Some(9)),
            ],
        )
        .await
        .unwrap();
    }
    in_container(
        &app,
        &worker,
        id,
        Command::sh(
            "printf '[Unit]\\nDescription=uses %s\\n[Service]\\nExecStart=/bin/true\\n' \"$1\" > /etc/systemd/system/leaky.service \
             && systemctl start nginx leaky && systemctl kill -s SIGKILL leaky",
        )
        .arg(secret),
    )
    .await;

    // The container's sshd does not answer at its address any more: through the node.
    {
        let mut conn = app.ctx.db.get().await.unwrap();
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        diesel::update(
            backend::schema::containers::table.filter(backend::schema::containers::id.eq(id)),
        )
        .set(backend::schema::containers::ip_address.eq("127.0.0.2"))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let via_node = check(&app, id).await;
    assert_eq!(
        via_node.via,
        Some(CheckedVia::ProxmoxNode),
        "{:?}",
        via_node.problem
    );
    let note = via_node.note.as_deref().unwrap();
    assert!(
        note.contains("Checked through the Proxmox node") && note.contains("127.0.0.2"),
        "{note}"
    );
    let nginx = via_node.service("nginx", Some(80)).unwrap();
    assert_eq!(
        (nginx.unit, nginx.port_state),
        (UnitState::Active, Some(PortState::Listening))
    );
    let leaky = via_node.service("leaky", None).unwrap();
    assert_eq!((leaky.unit, leaky.port_state), (UnitState::Failed, None));
    assert!(
        leaky
            .journal
            .iter()
            .any(|l| l.ends_with("Starting leaky.service - uses ********...")),
        "{:?}",
        leaky.journal
    );
    assert!(leaky.journal.iter().all(|l| !l.contains(secret)));
    let odd = via_node.service("x;touch /tmp/pwned", Some(9)).unwrap();
    assert_eq!(
        (odd.unit, odd.port_state),
        (UnitState::NoUnit, Some(PortState::Closed))
    );
    let root = worker.sim.container_root(181);
    assert!(!root.join("tmp/pwned").exists() && !root.join("pwned").exists());
}

/// A script expression: the text next to `label` in the health facts of service `name`.
fn fact_expression(name: &str, label: &str) -> String {
    format!(
        "(() => {{ const li = document.querySelector('[data-service={name:?}]'); \
         const dt = li && [...li.querySelectorAll('dt')].find(d => d.textContent === {label:?}); \
         return dt ? dt.nextElementSibling.textContent : ''; }})()"
    )
}

async fn fact(client: &Client, name: &str, label: &str) -> String {
    let script = format!("return {};", fact_expression(name, label));
    let text = client.execute(&script, vec![]).await.unwrap();
    text.as_str().unwrap().to_owned()
}

/// Waits until the fact `label` of service `name` reads `text`.
async fn wait_for_fact(client: &Client, name: &str, label: &str, text: &str) {
    let script = format!("return {} === {text:?};", fact_expression(name, label));
    wait_until(
        client,
        &format!("{name}'s {label} to read {text:?}"),
        &script,
    )
    .await;
}

/// A ready web server (`vmid`) from a worker whose checks tell pages to refresh every
/// `refresh`, and its page open in Chromium.
async fn web_server_page(
    refresh: Duration,
    vmid: u32,
) -> (TestApp, RealWorker, ContainerId, Client) {
    let app = TestApp::start().await;
    let user = app.user(PASSWORD).await;
    let worker = RealWorker::start_with_health_refresh(&app, refresh).await;
    let id = ready_web_server(&app, &worker, vmid).await;
    let client = open(1280, 900).await;
    log_in_to(&client, &app, &user, PASSWORD, &format!("/containers/{id}")).await;
    (app, worker, id, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_now_shows_a_killed_service_failed_with_its_journal() {
    // Pages left open would ask again only after an hour: what changes here, the click changed.
    let (app, worker, id, client) = web_server_page(Duration::from_secs(3600), 182).await;

    // The page checks on its own when it opens without a report.
    wait_for_fact(&client, "nginx", "Unit", "✓ active").await;
    assert_eq!(fact(&client, "nginx", "Port 80").await, "✓ listening");
    wait_until(
        &client,
        "the check's age",
        "return /^Checked \\d+ s ago$/.test(document.querySelector('[data-testid=health-status]').textContent);",
    )
    .await;
    client.execute(SHOW_NGINX, vec![]).await.unwrap();
    screenshot(&client, "service-health-active.png").await;

    kill_nginx(&app, &worker, id).await;
    assert_eq!(
        fact(&client, "nginx", "Unit").await,
        "✓ active",
        "nothing changes on the page before it checks again"
    );
    click_button(&client, "Check now").await;
    wait_for_fact(&client, "nginx", "Unit", "✕ failed").await;
    assert_eq!(
        fact(&client, "nginx", "Port 80").await,
        "✕ nothing listening"
    );
    let journal = text_of(&client, "[data-service=nginx] [data-testid=journal]").await;
    assert!(
        journal.contains("nginx.service: Main process exited, code=killed, status=9/KILL")
            && journal.contains("nginx.service: Failed with result 'signal'."),
        "{journal}"
    );
    assert_eq!(
        text_of(&client, "[data-service=nginx] summary").await,
        "Last journal lines of nginx.service"
    );
    client.execute(SHOW_NGINX, vec![]).await.unwrap();
    screenshot(&client, "service-health-failed.png").await;
    client.set_window_size(390, 844).await.unwrap();
    let overflow = sideways_overflow(&client).await;
    assert!(
        overflow <= 0,
        "the page scrolls sideways by {overflow} px on a phone"
    );
    client.execute(SHOW_NGINX, vec![]).await.unwrap();
    screenshot(&client, "service-health-failed-phone.png").await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_left_open_checks_again_by_itself() {
    let (app, worker, id, client) = web_server_page(Duration::from_secs(2), 183).await;
    wait_for_fact(&client, "nginx", "Unit", "✓ active").await;

    // No click from here on: each change shows because the page asked again.
    kill_nginx(&app, &worker, id).await;
    wait_for_fact(&client, "nginx", "Unit", "✕ failed").await;
    in_container(&app, &worker, id, systemctl(&["start", "nginx"])).await;
    wait_for_fact(&client, "nginx", "Unit", "✓ active").await;
    wait_for_fact(&client, "nginx", "Port 80", "✓ listening").await;
    client.close().await.unwrap();
}
