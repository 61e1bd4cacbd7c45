//! Accounts and roles in headless Chromium, by labels and button names: an admin adds a user
//! who then logs in, an operator cannot open Settings or Users nor another user's credential,
//! a disabled user cannot log in, a user changes their own password, and the container page
//! lists a reveal and a power action with the user's name.

use crate::audit::{SECRET, container_by, id_of};
use crate::containers::{create_on_sim, sim_client, sim_node, simulator};
use domain::user::Role;
use fantoccini::{Client, Locator};
use testkit::browser::{
    click_button, click_link, click_xpath, fill, open, screenshot, wait_for, wait_for_path,
    wait_for_shown_text, wait_for_text, wait_for_xpath, wait_until,
};
use testkit::server::TestApp;
use testkit::server::browser::{log_in, log_in_to, sideways_overflow, submit_login, text_of};

const PASSWORD: &str = "correct horse battery";

/// The id of the input the label reading `label` is bound to.
async fn input_for(client: &Client, label: &str) -> String {
    let xpath = format!("//label[normalize-space(.)={label:?}]");
    wait_for_xpath(client, &xpath)
        .await
        .attr("for")
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the label {label:?} is bound to no input"))
}

/// Types `value` into the field labelled `label`.
async fn fill_field(client: &Client, label: &str, value: &str) {
    let id = input_for(client, label).await;
    fill(client, &format!("#{id}"), value).await;
}

/// Clicks the button `label` in the users page's row of `username`.
async fn click_in_row(client: &Client, username: &str, label: &str) {
    click_xpath(
        client,
        &format!("//li[@data-username={username:?}]//button[normalize-space(.)={label:?}]"),
    )
    .await;
}

async fn log_out(client: &Client) {
    click_button(client, "Log out").await;
    wait_for(client, "#username").await;
}

/// Whether the main navigation has a link reading `text`.
async fn nav_has(client: &Client, text: &str) -> bool {
    let links = client
        .find_all(Locator::Css("nav.mainnav a"))
        .await
        .unwrap();
    for link in links {
        if link.text().await.unwrap_or_default() == text {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn an_admin_adds_a_user_who_then_logs_in() {
    let app = TestApp::start().await;
    let admin = app.user(PASSWORD).await;
    let client = open(1280, 900).await;
    log_in(&client, &app, &admin, PASSWORD).await;
    click_link(&client, "Users").await;
    wait_for_path(&client, "/users").await;
    wait_for_text(&client, "[data-testid=user-list]", &admin).await;

    fill_field(&client, "User name", "olivia").await;
    let role = input_for(&client, "Role").await;
    testkit::browser::select(&client, &format!("#{role}"), "operator").await;
    fill_field(&client, "Password", "long enough").await;
    fill_field(&client, "Password again", "long enougH").await;
    click_button(&client, "Add user").await;
    wait_for_shown_text(&client, "#new_confirm-error", "The two passwords differ.").await;

    fill_field(&client, "Password again", "long enough").await;
    click_button(&client, "Add user").await;
    wait_for(&client, "li[data-username=olivia][data-role=operator]").await;
    wait_for_text(&client, "[role=status]", "Added olivia (Operator).").await;
    screenshot(&client, "users-1280.png").await;

    log_out(&client).await;
    log_in(&client, &app, "olivia", "long enough").await;
    // An operator's navigation has neither Users nor Settings.
    assert!(nav_has(&client, "Containers").await);
    assert!(!nav_has(&client, "Users").await);
    assert!(!nav_has(&client, "Settings").await);
    client.close().await.unwrap();
}

#[tokio::test]
async fn an_operator_cannot_open_settings_users_or_another_users_credential() {
    let app = TestApp::start().await;
    let admin = app.user(PASSWORD).await;
    let operator = app.user_with_role(PASSWORD, Role::Operator).await;
    let node = {
        let mut conn = app.ctx.db.get().await.unwrap();
        testkit::fixtures::unreachable_node(&mut conn).await.id
    };
    let admins = container_by(&app, node, 120, "web-1", Some(id_of(&app, &admin).await)).await;
    let client = open(390, 844).await;
    log_in_to(&client, &app, &operator, PASSWORD, "/settings").await;
    wait_for_shown_text(
        &client,
        "[data-testid=admins-only]",
        "Only admins can add, change or delete Proxmox nodes.",
    )
    .await;
    assert!(
        client
            .find(Locator::XPath("//button[normalize-space(.)='Add node']"))
            .await
            .is_err(),
        "an operator sees Add node"
    );
    assert_eq!(sideways_overflow(&client).await, 0);
    screenshot(&client, "settings-operator-390.png").await;

    client.goto(&format!("{}/users", app.url)).await.unwrap();
    wait_for_shown_text(
        &client,
        "[data-testid=admins-only]",
        "Only admins can add, disable or reset accounts.",
    )
    .await;

    // Another user's container: the credential stays hidden, with the reason.
    client
        .goto(&format!("{}/containers/{admins}", app.url))
        .await
        .unwrap();
    click_xpath(
        &client,
        "//li[@data-credential='db-password']//button[normalize-space(.)='Show']",
    )
    .await;
    wait_for_text(
        &client,
        "li[data-credential=db-password]",
        "Only admins and the user who created this container can open its credentials.",
    )
    .await;
    let shown = text_of(&client, "[data-testid=credential-value]").await;
    assert!(!shown.contains(SECRET), "{shown}");
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_and_is_signed_out() {
    let app = TestApp::start().await;
    let admin = app.user(PASSWORD).await;
    let operator = app.user_with_role(PASSWORD, Role::Operator).await;
    let operators_browser = open(1280, 900).await;
    log_in(&operators_browser, &app, &operator, PASSWORD).await;

    let admins_browser = open(1280, 900).await;
    log_in_to(&admins_browser, &app, &admin, PASSWORD, "/users").await;
    click_in_row(&admins_browser, &operator, "Disable").await;
    wait_for(
        &admins_browser,
        &format!("li[data-username={operator:?}][data-state=disabled]"),
    )
    .await;
    admins_browser.close().await.unwrap();

    // The operator's session ended: the next page sends them to the login page.
    operators_browser
        .goto(&format!("{}/containers", app.url))
        .await
        .unwrap();
    wait_for_path(&operators_browser, "/login").await;
    submit_login(&operators_browser, &operator, PASSWORD).await;
    wait_for_shown_text(
        &operators_browser,
        ".banner-error",
        "This account is disabled. Ask an admin to enable it again.",
    )
    .await;
    operators_browser.close().await.unwrap();
}

#[tokio::test]
async fn a_user_changes_their_own_password_and_logs_in_with_the_new_one() {
    let app = TestApp::start().await;
    let operator = app.user_with_role(PASSWORD, Role::Operator).await;
    let client = open(1280, 900).await;
    log_in(&client, &app, &operator, PASSWORD).await;
    click_link(&client, "Account").await;
    wait_for_path(&client, "/account").await;
    wait_for_text(&client, "[data-testid=account-who]", "(Operator)").await;

    fill_field(&client, "Current password", "not my password").await;
    fill_field(&client, "New password", "a new horse battery").await;
    fill_field(&client, "New password again", "a new horse battery").await;
    click_button(&client, "Change password").await;
    wait_for_shown_text(
        &client,
        "#current_password-error",
        "This is not your current password.",
    )
    .await;

    fill_field(&client, "Current password", PASSWORD).await;
    click_button(&client, "Change password").await;
    wait_for_shown_text(
        &client,
        "[role=status].banner-ok",
        "Your password was changed.",
    )
    .await;
    // This session stays.
    client.refresh().await.unwrap();
    wait_for_shown_text(&client, "[data-testid=signed-in-user]", &operator).await;

    log_out(&client).await;
    submit_login(&client, &operator, PASSWORD).await;
    wait_for_shown_text(&client, ".banner-error", "Wrong user name or password.").await;
    log_in(&client, &app, &operator, "a new horse battery").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_container_page_lists_a_reveal_and_a_power_action_with_the_users_name() {
    let sim = simulator().await;
    let pve = sim_client(&sim);
    let app = TestApp::start().await;
    let admin = app.user(PASSWORD).await;
    let node = sim_node(&app, &sim).await;
    create_on_sim(&pve, 170, "web-1").await;
    let id = container_by(&app, node, 170, "web-1", Some(id_of(&app, &admin).await)).await;
    let client = open(1280, 900).await;
    let page = format!("/containers/{id}");
    log_in_to(&client, &app, &admin, PASSWORD, &page).await;
    wait_for_text(&client, "#activity-heading", "Activity").await;
    wait_for_text(&client, ".card", "Nobody has revealed a credential").await;

    click_xpath(
        &client,
        "//li[@data-credential='db-password']//button[normalize-space(.)='Show']",
    )
    .await;
    wait_for_shown_text(&client, "[data-testid=credential-value]", SECRET).await;
    click_button(&client, "Start").await;
    wait_until(
        &client,
        "the reveal and the start in the activity",
        "const items = [...document.querySelectorAll('[data-testid=activity] li')]; \
         return items.some(li => li.dataset.action === 'power') \
             && items.some(li => li.dataset.action === 'credential_revealed');",
    )
    .await;
    let activity = text_of(&client, "[data-testid=activity]").await;
    assert!(
        activity.contains(&format!("{admin} ran Start")),
        "{activity}"
    );
    assert!(
        activity.contains(&format!("{admin} revealed the credential db-password")),
        "{activity}"
    );
    assert!(!activity.contains(SECRET), "{activity}");
    client
        .execute(
            "document.getElementById('activity-heading').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&client, "container-activity-1280.png").await;
    client.close().await.unwrap();
    sim.shutdown().await;
}
