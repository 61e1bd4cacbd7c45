//! The whole product through its real UI in headless Chromium, against the
//! real server, the real worker binary, PostgreSQL, Redis and the Proxmox simulator.
//!
//! One scenario, in the order a new user meets the product: log in, add the node in Settings,
//! load the templates, create containers with a static address and with DHCP, see a failing
//! script and retry and delete, reload mid-run, survive a killed worker, log out.
//! Screenshots go to the test output folder (`test-output/e2e-*.png`).

use backend::models::ContainerRow;
use backend::models::event::EventRow;
use domain::ContainerId;
use domain::container::Lifecycle;
use e2e::stack::{PASSWORD, Stack, TOKEN_ID, TOKEN_SECRET};
use fantoccini::Client;
use testkit::browser::{
    click_button, fill, log_sequence_numbers, screenshot, select, wait_for, wait_for_path,
    wait_for_text, wait_until,
};

const NODE_NAME: &str = "home-pve";
const ROOT_PASSWORD: &str = "e2e-Root-pass";

/// How the wizard's Configure step sets the address.
enum Address {
    Dhcp,
    Static { cidr: String, gateway: String },
}

/// A static loopback address the simulator serves the container's sshd on.
fn static_address() -> Address {
    let b = uuid::Uuid::new_v4().into_bytes();
    let (x, y) = (200 + b[0] % 50, b[1]);
    Address::Static {
        cidr: format!("127.{x}.{y}.{}/24", 10 + b[2] % 200),
        gateway: format!("127.{x}.{y}.1"),
    }
}

#[tokio::test]
async fn a_user_creates_containers_through_the_whole_product() {
    let mut stack = Stack::start().await;
    let user = stack.user().await;
    let client = testkit::browser::open(1280, 900).await;

    // 1. Log in (the page asked for comes back after the login).
    log_in(&client, &stack, &user, "/settings").await;

    // 2. Add the node in Settings; "Test connection" succeeds.
    add_node(&client, &stack).await;

    // The templates folder (the examples plus this suite's two) is loaded from the Templates page.
    client
        .goto(&format!("{}/templates", stack.url))
        .await
        .unwrap();
    click_button(&client, "Discover templates").await;
    wait_for_text(&client, "[data-testid=discover-result]", "e2e-slow").await;

    // 3 + 4. The web-server template with a static address, Back and Next once; it gets ready
    // with nginx and its admin credential.
    let web = create_through_wizard(
        &client,
        &stack,
        "web-server",
        "web-static",
        301,
        static_address(),
        true,
    )
    .await;
    wait_for(&client, "[data-testid=complete-panel]").await;
    wait_for_text(&client, "[data-testid=services]", "nginx").await;
    wait_for_text(&client, "[data-testid=services]", "80").await;
    wait_for_text(&client, "h1", "web-static is ready").await;
    wait_for_text(&client, "[data-testid=credentials]", "web-admin-password").await;
    screenshot(&client, "e2e-progress-ready.png").await;
    // Revealing shows exactly what the script wrote in the container.
    click_button(&client, "Show").await;
    // The value arrives from the server a moment after the click; until then the mask shows.
    wait_until(
        &client,
        "the revealed credential",
        "const v = document.querySelector('[data-testid=credential-value]'); \
         return v !== null && !v.textContent.includes('\\u2022');",
    )
    .await;
    let shown = wait_for(&client, "[data-testid=credential-value]")
        .await
        .text()
        .await
        .unwrap();
    let written = std::fs::read_to_string(
        stack
            .sim
            .container_root(301)
            .join("etc/infrahaus/credentials/web-admin-password"),
    )
    .unwrap();
    assert_eq!(shown.trim(), written.trim());
    assert!(!shown.trim().is_empty());
    assert_ready(&stack, web).await;

    // 5. The same with DHCP.
    let dhcp = create_through_wizard(
        &client,
        &stack,
        "web-server",
        "web-dhcp",
        302,
        Address::Dhcp,
        false,
    )
    .await;
    wait_for(&client, "[data-testid=complete-panel]").await;
    wait_for_text(&client, "[data-testid=services]", "nginx").await;
    wait_for_text(&client, "[data-testid=credentials]", "web-admin-password").await;
    assert_ready(&stack, dhcp).await;
    let dhcp_row = row(&stack, dhcp).await;
    assert!(dhcp_row.ip_address.is_some(), "the DHCP address was found");

    // 6. A script that exits 3: the error names the script and the code; Retry gets it ready;
    // Delete removes it from the node and from the list.
    let flaky = create_through_wizard(
        &client,
        &stack,
        "e2e-flaky",
        "flaky",
        303,
        Address::Dhcp,
        false,
    )
    .await;
    wait_for(&client, "[data-testid=failed-panel]").await;
    wait_for_text(&client, "[data-testid=failure-message]", "10-flaky.sh").await;
    wait_for_text(&client, "[data-testid=failure-message]", "exit code 3").await;
    wait_for_text(&client, "h1", "Creating flaky failed").await;
    screenshot(&client, "e2e-progress-failed.png").await;
    click_button(&client, "Retry creation").await;
    wait_for(&client, "[data-testid=complete-panel]").await;
    assert_ready(&stack, flaky).await;
    client
        .goto(&format!("{}/containers/{flaky}", stack.url))
        .await
        .unwrap();
    click_button(&client, "Delete container").await;
    click_button(&client, "Yes, delete it").await;
    wait_until(
        &client,
        "the deleted container to leave the page",
        &format!("return !location.pathname.includes('{flaky}');"),
    )
    .await;
    assert!(find_row(&stack, flaky).await.is_none(), "the row is gone");
    let on_node = stack.pve(NODE_NAME).await.lxc_list("pve").await.unwrap();
    assert!(on_node.iter().all(|c| c.vmid != 303), "gone from the node");
    client
        .goto(&format!("{}/containers", stack.url))
        .await
        .unwrap();
    wait_for_text(&client, "[data-testid=container-table]", "web-dhcp").await;
    let table = wait_for(&client, "[data-testid=container-table]")
        .await
        .text()
        .await
        .unwrap();
    assert!(!table.contains("flaky"), "{table}");

    // 7. Reload the progress page mid-run: the log has no gap and no duplicate.
    let slow = create_through_wizard(
        &client,
        &stack,
        "e2e-slow",
        "slow-reload",
        304,
        Address::Dhcp,
        false,
    )
    .await;
    wait_for_text(&client, "[data-testid=log-viewport]", "slow line 3").await;
    assert_eq!(
        row(&stack, slow).await.lifecycle,
        Lifecycle::Creating,
        "reloaded mid-run"
    );
    client.refresh().await.unwrap();
    wait_for(&client, "[data-testid=complete-panel]").await;
    assert_whole_log(&client, &stack, slow).await;

    // 8. Kill the worker mid-script and start another: the container still gets ready, once.
    let survivor = create_through_wizard(
        &client,
        &stack,
        "e2e-slow",
        "slow-killed",
        305,
        Address::Dhcp,
        false,
    )
    .await;
    wait_for_text(&client, "[data-testid=log-viewport]", "slow line 5").await;
    stack.kill_worker().await;
    stack.start_worker();
    wait_for(&client, "[data-testid=complete-panel]").await;
    assert_ready(&stack, survivor).await;
    let pve = stack.pve(NODE_NAME).await;
    let on_node = pve.lxc_list("pve").await.unwrap();
    let survivor_row = row(&stack, survivor).await;
    assert_eq!(
        on_node.iter().filter(|c| c.vmid == 305).count(),
        1,
        "the row has VMID {}; the node holds {:?}",
        survivor_row.vmid,
        on_node.iter().map(|c| c.vmid).collect::<Vec<_>>()
    );
    let creates = pve
        .node_tasks("pve")
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.task_type == "vzcreate" && t.id.as_deref() == Some("305"))
        .count();
    assert_eq!(creates, 1, "created once");
    assert_whole_log(&client, &stack, survivor).await;

    // 9. Log out: the progress page now asks for a login.
    click_button(&client, "Log out").await;
    wait_for_path(&client, "/login").await;
    client
        .goto(&format!("{}/containers/{survivor}/progress", stack.url))
        .await
        .unwrap();
    wait_for(&client, "#username").await;
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/login");
    assert!(url.as_str().contains("next="), "{url}");

    client.close().await.unwrap();
}

async fn log_in(client: &Client, stack: &Stack, user: &str, path: &str) {
    client.goto(&format!("{}{path}", stack.url)).await.unwrap();
    fill(client, "#username", user).await;
    fill(client, "#password", PASSWORD).await;
    wait_for(client, "button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    wait_for_path(client, path).await;
}

async fn add_node(client: &Client, stack: &Stack) {
    click_button(client, "Add node").await;
    fill(client, "#name", NODE_NAME).await;
    fill(client, "#host", "127.0.0.1").await;
    fill(client, "#port", &stack.sim.api_addr.port().to_string()).await;
    let node_ssh = stack.sim.node_ssh_addr.expect("node ssh").port();
    fill(client, "#ssh_port", &node_ssh.to_string()).await;
    fill(client, "#token_id", TOKEN_ID).await;
    fill(client, "#token_secret", TOKEN_SECRET).await;
    wait_for(client, "#tls_fingerprint")
        .await
        .click()
        .await
        .unwrap();
    fill(client, "#fingerprint", &stack.sim.fingerprint).await;
    click_button(client, "Test connection").await;
    wait_for_text(
        client,
        "[data-testid=connection-result]",
        "Connected: Proxmox VE",
    )
    .await;
    let result = wait_for(client, "[data-testid=connection-result]").await;
    assert_eq!(
        result.attr("class").await.unwrap().as_deref(),
        Some("banner banner-ok")
    );
    screenshot(client, "e2e-settings-node.png").await;
    click_button(client, "Save node").await;
    wait_for_text(client, "[data-testid=node-list]", NODE_NAME).await;
    let mut conn = stack.ctx.db.get().await.unwrap();
    let saved = backend::models::NodeRow::find_by_name(&mut conn, NODE_NAME)
        .await
        .unwrap();
    assert!(saved.is_some(), "the node was saved");
}

/// Walks the five steps and deploys; returns the new container's id once the progress page is
/// open. With `back_and_forth`, goes Back from Packages and checks Configure kept its values.
async fn create_through_wizard(
    client: &Client,
    stack: &Stack,
    template: &str,
    hostname: &str,
    vmid: u32,
    address: Address,
    back_and_forth: bool,
) -> ContainerId {
    let shots = back_and_forth;
    client
        .goto(&format!("{}/containers/new", stack.url))
        .await
        .unwrap();
    wait_for(client, "[data-testid=wizard-templates]").await;
    if shots {
        shot_from_top(client, "e2e-wizard-1-template.png").await;
    }
    // Picking a template moves on to Configure.
    click_button(client, &format!("Use {template}")).await;
    wait_for_step(client, "2. Configure").await;

    let node_id = {
        let mut conn = stack.ctx.db.get().await.unwrap();
        backend::models::NodeRow::find_by_name(&mut conn, NODE_NAME)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    select(client, "#node_id", &node_id.to_string()).await;
    wait_for_text(client, "[data-testid=next-vmid]", "Next free").await;
    fill(client, "#hostname", hostname).await;
    // The page fills in the node's next free VMID when the node's lists arrive; typing before
    // that would add to it.
    wait_until(
        client,
        "the suggested VMID",
        "return document.querySelector('#vmid').value !== '';",
    )
    .await;
    fill(client, "#vmid", &vmid.to_string()).await;
    select(client, "#storage", "local-lvm").await;
    select(
        client,
        "#os_template",
        "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
    )
    .await;
    select(client, "#bridge", "vmbr0").await;
    match &address {
        Address::Dhcp => wait_for(client, "#ipv4_dhcp").await.click().await.unwrap(),
        Address::Static { cidr, gateway } => {
            wait_for(client, "#ipv4_static")
                .await
                .click()
                .await
                .unwrap();
            fill(client, "#ipv4_cidr", cidr).await;
            fill(client, "#gateway", gateway).await;
        }
    }
    fill(client, "#root_password", ROOT_PASSWORD).await;
    fill(client, "#root_password_confirm", ROOT_PASSWORD).await;
    if shots {
        shot_from_top(client, "e2e-wizard-2-configure.png").await;
    }
    next(client, "3.").await;
    if back_and_forth {
        wait_for(client, "#wizard-back")
            .await
            .click()
            .await
            .unwrap();
        wait_for_text(client, "#step-heading", "2. Configure").await;
        let kept = wait_for(client, "#hostname")
            .await
            .prop("value")
            .await
            .unwrap();
        assert_eq!(kept.as_deref(), Some(hostname), "Back keeps what was typed");
        next(client, "3.").await;
    }
    if shots {
        shot_from_top(client, "e2e-wizard-3-packages.png").await;
    }
    next(client, "4.").await;
    if shots {
        shot_from_top(client, "e2e-wizard-4-scripts.png").await;
    }
    next(client, "5.").await;
    wait_for_text(client, "main", hostname).await;
    let review = wait_for(client, "body").await.text().await.unwrap();
    assert!(
        !review.contains(ROOT_PASSWORD),
        "the review masks the password"
    );
    if shots {
        shot_from_top(client, "e2e-wizard-5-review.png").await;
    }
    wait_for(client, "#wizard-deploy")
        .await
        .click()
        .await
        .unwrap();
    wait_until(
        client,
        "the progress page",
        "return /^\\/containers\\/[0-9a-f-]{36}\\/progress$/.test(location.pathname);",
    )
    .await;
    let path = client.current_url().await.unwrap().path().to_owned();
    let id = path
        .trim_start_matches("/containers/")
        .trim_end_matches("/progress");
    ContainerId(id.parse().unwrap())
}

/// A screenshot of the page from its top.
async fn shot_from_top(client: &Client, name: &str) {
    client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .unwrap();
    screenshot(client, name).await;
}

/// Clicks Next and waits for the step whose heading starts with `heading`.
async fn next(client: &Client, heading: &str) {
    wait_for(client, "#wizard-next")
        .await
        .click()
        .await
        .unwrap();
    wait_for_step(client, heading).await;
}

async fn wait_for_step(client: &Client, heading: &str) {
    wait_until(
        client,
        &format!("the step {heading}"),
        &format!(
            "const h = document.querySelector('#step-heading'); \
             return !!h && h.textContent.trim().startsWith({heading:?});"
        ),
    )
    .await;
}

async fn find_row(stack: &Stack, id: ContainerId) -> Option<ContainerRow> {
    let mut conn = stack.ctx.db.get().await.unwrap();
    ContainerRow::find(&mut conn, id).await.ok()
}

async fn row(stack: &Stack, id: ContainerId) -> ContainerRow {
    find_row(stack, id).await.expect("the container row")
}

/// Once the page shows the container ready, its row says so too: the worker stores the
/// `complete` event and lifecycle `ready` in one transaction.
async fn assert_ready(stack: &Stack, id: ContainerId) {
    assert_eq!(row(stack, id).await.lifecycle, Lifecycle::Ready);
}

/// The page's log holds every stored event exactly once, in order.
async fn assert_whole_log(client: &Client, stack: &Stack, id: ContainerId) {
    let stored = {
        let mut conn = stack.ctx.db.get().await.unwrap();
        EventRow::list_after(&mut conn, id, 0, i64::MAX)
            .await
            .unwrap()
    };
    let count = stored.len() as i64;
    wait_until(
        client,
        &format!("{count} lines in the log"),
        &format!(
            "const v = document.querySelector('[data-testid=log-viewport]'); \
             return !!v && v.dataset.count === '{count}';"
        ),
    )
    .await;
    let (seen, broken) = log_sequence_numbers(client).await;
    assert_eq!(seen, (1..=count).collect::<Vec<_>>(), "every event once");
    assert_eq!(broken, 0, "no view showed a gap or a double");
}
