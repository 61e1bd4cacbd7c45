//! The real worker (runner and pipeline, in-process) against the simulator, on the test server's
//! database, Redis and queue, followed through the progress page in headless Chromium: a
//! creation to ready across a reload, and cancels in each state.

use backend::models::ContainerRow;
use backend::models::event::EventRow;
use domain::container::Lifecycle;
use domain::spec::ContainerDraft;
use domain::{ContainerId, NodeId};
use e2e::in_process::RealWorker;
use fantoccini::Client;
use testkit::browser::{
    click_button, click_xpath, log_sequence_numbers, open, screenshot, wait_for, wait_for_path,
    wait_for_shown_text, wait_for_text, wait_until,
};
use testkit::server::TestApp;
use testkit::server::browser::{log_in_to, submit_login, text_of, wait_for_lines};

const PASSWORD: &str = "correct horse battery";

const WORKER_CREDENTIAL: &str = "Admin-Cred-40d2";
/// The file in the container's `/tmp` the build script waits for after step 10.
const BUILD_GATE: &str = "build-may-continue";

/// Lets the build script of [`worker_spec`] in container `vmid` go past step 10.
fn release_build(worker: &RealWorker, vmid: u32) {
    let tmp = worker.sim.container_root(vmid).join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join(BUILD_GATE), "").unwrap();
}

/// A spec the worker can build on the simulator: a static loopback address the simulator serves
/// the container's sshd on, a script that writes 150 lines (with one stderr line), pausing after
/// the 10th until the test calls [`release_build`] (a minute at most), and one that
/// leaves a credential.
fn worker_spec(node: NodeId) -> ContainerDraft {
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
    ContainerDraft {
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
        ..ContainerDraft::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_worker_creates_a_container_the_page_follows_to_ready_across_a_reload() {
    let app = TestApp::start().await;
    let user = app.user(PASSWORD).await;
    let worker = RealWorker::start(&app).await;
    let id = worker.create(&app, &worker_spec(worker.node)).await;
    let client = open(1280, 900).await;
    log_in_to(
        &client,
        &app,
        &user,
        PASSWORD,
        &format!("/containers/{id}/progress"),
    )
    .await;

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
    release_build(&worker, worker_spec(worker.node).vmid);

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
fn cancel_spec(node: NodeId, vmid: u32) -> ContainerDraft {
    ContainerDraft {
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
    release_build(&worker, 181);
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
