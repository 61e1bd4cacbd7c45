//! Re-applying a template through the container page: the template gains a package, the page
//! shows that change, the update run installs it on the running container, and the container
//! page lists both runs with their own logs.

use backend::models::ContainerRow;
use domain::container::Lifecycle;
use domain::spec::ContainerDraft;
use domain::template::{Package, Script, Template};
use e2e::in_process::RealWorker;
use std::time::Duration;
use testkit::browser::{
    click_button, click_link, open, screenshot, wait_for, wait_for_shown_text, wait_for_text,
    wait_until,
};
use testkit::fixtures::apt;
use testkit::server::TestApp;
use testkit::server::browser::{log_in_to, wait_for_lines};

const PASSWORD: &str = "correct horse battery";
const VMID: u32 = 175;

fn template(packages: Vec<Package>) -> Template {
    Template {
        name: "Tools".into(),
        description: "Command-line tools".into(),
        storage: "local-lvm".into(),
        bridge: "vmbr0".into(),
        packages,
        scripts: vec![Script {
            name: "10-hello.sh".into(),
            description: String::new(),
            content: "#!/bin/sh\necho 'hello from the template'\n".into(),
            enabled: true,
        }],
        ..Template::default()
    }
}

async fn lifecycle(app: &TestApp, id: domain::ContainerId) -> Lifecycle {
    let mut conn = app.ctx.db.get().await.unwrap();
    ContainerRow::find(&mut conn, id).await.unwrap().lifecycle
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_added_to_the_template_is_applied_to_a_running_container() {
    let app = TestApp::start().await;
    let user = app.user(PASSWORD).await;
    let worker = RealWorker::start(&app).await;
    let template_id =
        backend::services::templates::save(&app.ctx.db, None, template(vec![apt("curl")]))
            .await
            .unwrap();
    let draft = ContainerDraft {
        template_id: Some(template_id),
        template_name: Some("Tools".into()),
        packages: vec![apt("curl")],
        scripts: template(vec![]).scripts,
        ..testkit::fixtures::draft(worker.node, VMID, "tools-1")
    };
    let id = worker.create(&app, &draft).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while lifecycle(&app, id).await == Lifecycle::Creating {
        assert!(tokio::time::Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(lifecycle(&app, id).await, Lifecycle::Ready);
    let installed = |name: &str| {
        worker
            .sim
            .container_root(VMID)
            .join("var/lib/dpkg-sim/installed")
            .join(name)
            .exists()
    };
    assert!(installed("curl") && !installed("htop"));

    // Someone adds htop to the template.
    backend::services::templates::save(
        &app.ctx.db,
        Some(template_id),
        template(vec![apt("curl"), apt("htop")]),
    )
    .await
    .unwrap();

    let client = open(1280, 900).await;
    log_in_to(&client, &app, &user, PASSWORD, &format!("/containers/{id}")).await;
    wait_for(&client, "[data-testid=reapply]").await;
    // The template's current version is the default choice for a container made from one.
    let chosen = client
        .execute(
            "return document.getElementById('reapply-template').checked;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(chosen, serde_json::Value::Bool(true));
    click_button(&client, "Show changes").await;
    wait_for_shown_text(
        &client,
        "[data-testid=changes]",
        "Package htop (apt): added",
    )
    .await;
    screenshot(&client, "update-changes.png").await;
    click_button(&client, "Re-apply now").await;

    wait_until(
        &client,
        "the update run's progress page",
        &format!(
            "return location.pathname === '/containers/{id}/progress' && location.search === '?run=2';"
        ),
    )
    .await;
    wait_for_text(&client, "h1", "tools-1 is ready").await;
    wait_for_text(
        &client,
        ".log-line",
        "Update 2: applying the template's current version.",
    )
    .await;
    // This run's log holds the update only: the creation's lines are in run 1's.
    let (total, update_first) = {
        let mut conn = app.ctx.db.get().await.unwrap();
        let total = backend::models::event::EventRow::count(&mut conn, id)
            .await
            .unwrap();
        let runs = backend::models::RunRow::list(&mut conn, id).await.unwrap();
        (total, runs[1].first_seq)
    };
    assert!(update_first > 1);
    wait_for_lines(&client, total - update_first + 1).await;
    assert!(installed("htop"), "htop is installed in the container");
    assert_eq!(lifecycle(&app, id).await, Lifecycle::Ready);

    // The container page lists both runs, each with its log.
    client
        .goto(&format!("{}/containers/{id}", app.url))
        .await
        .unwrap();
    wait_for_shown_text(
        &client,
        "[data-testid=runs]",
        "Run 2: Update (the template's current version)",
    )
    .await;
    wait_for_shown_text(&client, "[data-testid=runs]", "Run 1: Creation").await;
    screenshot(&client, "update-runs.png").await;
    click_link(&client, "Log of run 1").await;
    // Only the rows in view are in the document: scroll to the top, where the creation starts.
    wait_until(
        &client,
        "the creation's first step in run 1's log",
        "const v = document.querySelector('[data-testid=log-viewport]'); if (!v) return false; \
         v.scrollTop = 0; v.dispatchEvent(new Event('scroll')); \
         return [...document.querySelectorAll('.log-line')].some(l => l.textContent.includes('Creating container'));",
    )
    .await;
    client.close().await.unwrap();
}
