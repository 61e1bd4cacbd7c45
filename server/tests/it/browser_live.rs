//! Live status and power in headless Chromium against the simulator: the list shows each
//! container's node view and usage and keeps it moving, a container deleted in Proxmox while
//! the list is open turns missing, a node that does not answer shows as unreachable on its own
//! rows; the container page restarts, shuts down and starts a container with buttons that
//! follow its state, offers Stop when a shutdown does not finish, and opens each Proxmox
//! task's log.

use crate::containers::{create_on_sim, wait};
use crate::live_status::{World, black_hole_node, ready_row};
use domain::ContainerId;
use fantoccini::{Client, Locator};
use testkit::browser::{
    click_button, click_link, click_xpath, open, screenshot, wait_for, wait_for_shown_text,
    wait_for_text, wait_until,
};
use testkit::server::browser::{log_in_to, sideways_overflow, text_of};

const PASSWORD: &str = "correct horse battery";

fn row(id: ContainerId) -> String {
    format!("tr[data-container='{id}']")
}

/// A browser logged in to `world`'s server, on `path`.
async fn browser_on(world: &World, path: &str) -> Client {
    let user = world.app.user(PASSWORD).await;
    let client = open(1280, 900).await;
    log_in_to(&client, &world.app, &user, PASSWORD, path).await;
    client
}

/// A browser on the page of `world`'s running container, once it shows it running.
async fn on_running_container_page(world: &World) -> Client {
    let client = browser_on(world, &format!("/containers/{}", world.web)).await;
    wait_for_shown_text(&client, NODE_STATUS, "running").await;
    client
}

/// The cell of the list row `id` under the column `label`.
fn cell(id: ContainerId, label: &str) -> String {
    format!("{} td[data-label='{label}']", row(id))
}

/// The seconds of uptime the element `css` shows.
async fn uptime(client: &Client, css: &str) -> u64 {
    wait_for(client, css)
        .await
        .attr("data-uptime-secs")
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{css} shows no uptime"))
        .parse()
        .unwrap()
}

/// Waits until the uptime `css` shows satisfies `condition` (a JavaScript expression on `s`).
async fn wait_for_uptime(client: &Client, css: &str, condition: &str) {
    wait_until(
        client,
        &format!("an uptime with {condition} in {css}"),
        &format!(
            "const e = document.querySelector({css:?}); \
             if (!e || e.dataset.uptimeSecs === undefined) return false; \
             const s = Number(e.dataset.uptimeSecs); return {condition};"
        ),
    )
    .await;
}

/// How many buttons read exactly `label`.
async fn buttons(client: &Client, label: &str) -> usize {
    client
        .find_all(Locator::XPath(&format!(
            "//button[normalize-space(.)={label:?}]"
        )))
        .await
        .unwrap()
        .len()
}

async fn assert_power_buttons(client: &Client, shown: &[&str]) {
    for label in ["Start", "Shut down", "Restart", "Stop"] {
        let expected = usize::from(shown.contains(&label));
        assert_eq!(buttons(client, label).await, expected, "button {label}");
    }
}

const NODE_STATUS: &str = "[data-testid=node-status]";
const NODE_UPTIME: &str = "[data-testid=node-status] dd[data-uptime-secs]";

/// The first row of the Proxmox tasks table shows `action` with `result`.
async fn wait_for_newest_task(client: &Client, action: &str, result: &str) {
    wait_until(
        client,
        &format!("the newest Proxmox task to be {action} {result}"),
        &format!(
            "const r = document.querySelector('[data-testid=node-tasks] tbody tr'); \
             return !!r && r.cells[0].textContent === {action:?} && r.cells[3].textContent === {result:?};"
        ),
    )
    .await;
}

/// Opens the log of the newest task named `action` and waits for `line` in it.
async fn open_task_log(client: &Client, action: &str, line: &str) {
    click_xpath(
        client,
        &format!(
            "//table[@data-testid='node-tasks']//tr[td[1]={action:?}][1]//button[normalize-space(.)='Show log']"
        ),
    )
    .await;
    wait_for_text(client, "pre[aria-label='Task log']", line).await;
}

#[tokio::test]
async fn the_list_shows_state_and_usage_live_with_missing_and_unreachable_rows() {
    let world = World::start().await;
    let World {
        pve,
        app,
        node,
        web,
        ..
    } = &world;
    let (hung, _holder) = black_hole_node(app).await;
    create_on_sim(pve, 131, "db-1").await;
    create_on_sim(pve, 132, "gone-1").await;
    let web = *web;
    let db = ready_row(app, *node, 131, "db-1").await;
    let gone = ready_row(app, *node, 132, "gone-1").await;
    let far = ready_row(app, hung, 150, "far-1").await;
    let client = browser_on(&world, "/containers").await;

    wait_for_shown_text(&client, &cell(web, "On the node"), "running").await;
    let cpu = text_of(&client, &cell(web, "CPU")).await;
    assert!(cpu.ends_with(" %") && cpu != "0.0 %", "CPU {cpu:?}");
    let memory = text_of(&client, &cell(web, "Memory")).await;
    assert!(memory.ends_with(" MiB of 512 MiB"), "memory {memory:?}");
    let disk = text_of(&client, &cell(web, "Root disk")).await;
    assert!(disk.ends_with(" of 4.0 GiB"), "root disk {disk:?}");
    wait_for_shown_text(&client, &cell(db, "On the node"), "stopped").await;
    assert_eq!(text_of(&client, &cell(db, "CPU")).await, "—");

    // Someone deletes gone-1 in Proxmox, outside infrahaus: the open list notices.
    wait_for_shown_text(&client, &cell(gone, "On the node"), "stopped").await;
    let upid = pve.lxc_delete("pve", 132, true).await.unwrap();
    wait(pve, &upid).await;
    wait_for_shown_text(&client, &cell(gone, "On the node"), "missing on the node").await;

    // The hung node's row says so; the other node's rows keep moving meanwhile.
    wait_for_shown_text(&client, &cell(far, "On the node"), "node unreachable").await;
    let first = uptime(&client, &cell(web, "Uptime")).await;
    wait_for_uptime(&client, &cell(web, "Uptime"), &format!("s > {first}")).await;
    wait_for_shown_text(&client, &cell(web, "On the node"), "running").await;
    wait_for_shown_text(&client, &cell(far, "On the node"), "node unreachable").await;
    screenshot(&client, "containers-live-1280.png").await;

    client.set_window_size(390, 844).await.unwrap();
    let overflow = sideways_overflow(&client).await;
    assert!(
        overflow <= 0,
        "the page scrolls sideways on a phone by {overflow}px"
    );
    screenshot(&client, "containers-live-phone.png").await;
    client.set_window_size(1280, 900).await.unwrap();

    // The missing container's page says what happened and offers no power button.
    click_link(&client, "gone-1").await;
    wait_for_shown_text(&client, NODE_STATUS, "missing on the node").await;
    wait_for_text(
        &client,
        "[role=status]",
        "deleted or replaced outside infrahaus",
    )
    .await;
    assert_power_buttons(&client, &[]).await;
    assert_eq!(buttons(&client, "Delete container").await, 1);
    client.close().await.unwrap();
    world.sim.shutdown().await;
}

#[tokio::test]
async fn restart_shut_down_and_start_from_the_container_page() {
    let world = World::start().await;
    let client = on_running_container_page(&world).await;
    assert_power_buttons(&client, &["Shut down", "Restart", "Stop"]).await;
    wait_for_uptime(&client, NODE_UPTIME, "s >= 10").await;
    let before = uptime(&client, NODE_UPTIME).await;

    click_button(&client, "Restart").await;
    wait_for_text(&client, "[role=alert]", "Restart this container?").await;
    click_button(&client, "Yes, restart").await;
    wait_for_newest_task(&client, "Restart", "OK").await;
    wait_for_uptime(&client, NODE_UPTIME, &format!("s < {before}")).await;
    wait_for_shown_text(&client, NODE_STATUS, "running").await;
    screenshot(&client, "container-restarted.png").await;

    click_button(&client, "Shut down").await;
    wait_for_text(&client, "[role=alert]", "Shut this container down?").await;
    click_button(&client, "Yes, shut down").await;
    wait_for_shown_text(&client, NODE_STATUS, "stopped").await;
    wait_for_newest_task(&client, "Shut down", "OK").await;
    assert_power_buttons(&client, &["Start"]).await;

    click_button(&client, "Start").await;
    wait_for_shown_text(&client, NODE_STATUS, "running").await;
    wait_for_newest_task(&client, "Start", "OK").await;
    assert_power_buttons(&client, &["Shut down", "Restart", "Stop"]).await;

    open_task_log(&client, "Restart", "TASK OK").await;
    screenshot(&client, "container-tasks.png").await;
    client.close().await.unwrap();
    world.sim.shutdown().await;
}

#[tokio::test]
async fn a_shutdown_that_does_not_finish_offers_stop() {
    let world = World::start().await;
    let client = on_running_container_page(&world).await;

    world.sim.update_faults(pvesim::FaultsPatch {
        fail_next: [("vzshutdown".into(), "container did not stop".into())].into(),
        ..Default::default()
    });
    click_button(&client, "Shut down").await;
    click_button(&client, "Yes, shut down").await;
    wait_for_text(&client, ".banner-error", "did not shut down within 60 s").await;
    wait_for_shown_text(&client, NODE_STATUS, "running").await;
    screenshot(&client, "container-shutdown-timed-out.png").await;

    click_button(&client, "Stop it now").await;
    wait_for_shown_text(&client, NODE_STATUS, "stopped").await;
    wait_for_newest_task(&client, "Stop", "OK").await;
    open_task_log(&client, "Shut down", "TASK ERROR: container did not stop").await;
    let failed = text_of(
        &client,
        "[data-testid=node-tasks] tbody tr:nth-child(2) td:nth-child(4)",
    )
    .await;
    assert_eq!(failed, "failed: container did not stop");
    client.close().await.unwrap();
    world.sim.shutdown().await;
}
