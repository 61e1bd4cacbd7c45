//! Headless Chromium through the real login page to the dashboard, at desktop and phone width.

use fantoccini::{Client, Locator};
use testkit::browser::{
    click, click_link, click_xpath, open, screenshot, wait_for, wait_for_xpath,
};
use testkit::server::TestApp;
use testkit::server::browser::{sideways_overflow, submit_login, text_of};

async fn log_in(client: &Client, app: &TestApp, user: &str, password: &str) {
    client.goto(&format!("{}/settings", app.url)).await.unwrap();
    wait_for(client, "#username").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("/login?next=%2Fsettings")
    );
    // The label is visible and bound to the input.
    let label = client
        .find(Locator::Css("label[for=username]"))
        .await
        .unwrap();
    assert_eq!(label.text().await.unwrap(), "User name");
    submit_login(client, user, password).await;
}

#[tokio::test]
async fn logging_in_through_the_page_shows_the_dashboard_and_the_page_asked_for() {
    let app = TestApp::start().await;
    let user = app.user("correct horse battery").await;
    let client = open(1280, 900).await;

    log_in(&client, &app, &user, "wrong password").await;
    let message = text_of(&client, ".banner-error").await;
    assert_eq!(message, "Wrong user name or password.");

    // The page emptied the password field: typing the right one is enough.
    wait_for(&client, "#password")
        .await
        .send_keys("correct horse battery")
        .await
        .unwrap();
    click(&client, "button[type=submit]").await;
    let heading = wait_for_xpath(&client, "//h1[text()='Settings']").await;
    assert_eq!(heading.text().await.unwrap(), "Settings");
    let signed_in = text_of(&client, "[data-testid=signed-in-user]").await;
    assert_eq!(signed_in, user);
    screenshot(&client, "settings-1280.png").await;

    click_link(&client, "Dashboard").await;
    let heading = wait_for_xpath(&client, "//h1[text()='Dashboard']").await;
    assert!(heading.is_displayed().await.unwrap());
    assert!(
        text_of(&client, "#nodes-heading")
            .await
            .contains("Proxmox nodes")
    );
    screenshot(&client, "dashboard-1280.png").await;

    click_xpath(&client, "//button[text()='Log out']").await;
    wait_for(&client, "#username").await;
    client.goto(&format!("{}/", app.url)).await.unwrap();
    wait_for(&client, "#username").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/login")
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_login_and_dashboard_fit_a_phone_screen() {
    let app = TestApp::start().await;
    let user = app.user("correct horse battery").await;
    let client = open(390, 844).await;
    log_in(&client, &app, &user, "correct horse battery").await;
    text_of(&client, "[data-testid=signed-in-user]").await;
    let overflow = sideways_overflow(&client).await;
    assert!(
        overflow <= 0,
        "the page scrolls sideways on a phone by {overflow}px"
    );
    screenshot(&client, "settings-phone.png").await;
    client.close().await.unwrap();
}

/// `next` after a login: a path of this site is followed, anything that a browser would read
/// as another site (a tab or backslash trick, a scheme-relative or absolute URL) leads home.
#[tokio::test]
async fn after_login_next_never_leads_off_site() {
    let app = TestApp::start().await;
    let user = app.user("correct horse battery").await;
    let client = open(1280, 900).await;
    let app_host = reqwest::Url::parse(&app.url).unwrap();
    for (next, expected_path) in [
        ("/%09/example.com", "/"),
        ("%2F%2Fexample.com", "/"),
        ("/%5Cexample.com", "/"),
        ("https%3A%2F%2Fexample.com%2F", "/"),
        ("%2Fcontainers", "/containers"),
    ] {
        client
            .goto(&format!("{}/login?next={next}", app.url))
            .await
            .unwrap();
        submit_login(&client, &user, "correct horse battery").await;
        wait_for(&client, "[data-testid=signed-in-user]").await;
        let here = client.current_url().await.unwrap();
        assert_eq!(
            here.host_str(),
            app_host.host_str(),
            "next={next} led to {here}"
        );
        assert_eq!(here.port(), app_host.port(), "next={next} led to {here}");
        assert_eq!(here.path(), expected_path, "next={next}");
        click_xpath(&client, "//button[text()='Log out']").await;
        wait_for(&client, "#username").await;
    }
    client.close().await.unwrap();
}

/// With PostgreSQL away the page stays where it is, says so, and recovers by itself.
#[tokio::test]
async fn a_database_outage_shows_a_banner_and_keeps_the_user_on_the_page() {
    let (app, database) = TestApp::start_behind_db_gate().await;
    let user = app.user("correct horse battery").await;
    let client = open(1280, 900).await;
    testkit::server::browser::log_in(&client, &app, &user, "correct horse battery").await;
    client
        .goto(&format!("{}/containers", app.url))
        .await
        .unwrap();
    wait_for_xpath(&client, "//h1[text()='Containers']").await;

    database.shut();
    client.refresh().await.unwrap();
    let banner = text_of(&client, "[data-testid=outage-banner]").await;
    assert!(banner.contains("database"), "{banner}");
    assert!(banner.contains("You are still logged in"), "{banner}");
    screenshot(&client, "database-outage-banner.png").await;
    let here = client.current_url().await.unwrap();
    assert_eq!(here.path(), "/containers", "the outage sent the user away");

    database.open().await;
    let heading = wait_for_xpath(&client, "//h1[text()='Containers']").await;
    assert!(heading.is_displayed().await.unwrap());
    assert_eq!(client.current_url().await.unwrap().path(), "/containers");
    client.close().await.unwrap();
}
