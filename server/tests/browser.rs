//! Headless Chromium through the real login page to the dashboard, at desktop and phone width.

mod common;

use common::TestApp;
use fantoccini::{Client, ClientBuilder, Locator};
use std::time::Duration;

async fn browser(width: u32, height: u32) -> Client {
    // Two rustls providers are linked (ring and aws-lc-rs); pick one for the WebDriver client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "args": args, "binary": "/usr/bin/chromium" }),
    );
    let client = ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&testkit::webdriver_url())
        .await
        .expect("connect to ChromeDriver");
    client.set_window_size(width, height).await.unwrap();
    client
}

async fn text_of(client: &Client, css: &str) -> String {
    let element = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap();
    element.text().await.unwrap()
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(testkit::output_dir().join(name), png).unwrap();
}

async fn log_in(client: &Client, app: &TestApp, user: &str, password: &str) {
    client.goto(&format!("{}/settings", app.url)).await.unwrap();
    let username = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#username"))
        .await
        .unwrap();
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
    username.send_keys(user).await.unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn logging_in_through_the_page_shows_the_dashboard_and_the_page_asked_for() {
    let app = TestApp::start().await;
    let user = app.user("correct horse battery").await;
    let client = browser(1280, 900).await;

    log_in(&client, &app, &user, "wrong password").await;
    let message = text_of(&client, ".banner-error").await;
    assert_eq!(message, "Wrong user name or password.");

    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys("correct horse battery")
        .await
        .unwrap();
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let heading = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath("//h1[text()='Settings']"))
        .await
        .unwrap();
    assert_eq!(heading.text().await.unwrap(), "Settings");
    let signed_in = text_of(&client, "[data-testid=signed-in-user]").await;
    assert_eq!(signed_in, user);
    screenshot(&client, "settings-1280.png").await;

    client
        .find(Locator::LinkText("Dashboard"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let heading = client
        .wait()
        .for_element(Locator::XPath("//h1[text()='Dashboard']"))
        .await
        .unwrap();
    assert!(heading.is_displayed().await.unwrap());
    assert!(
        text_of(&client, "#nodes-heading")
            .await
            .contains("Proxmox nodes")
    );
    screenshot(&client, "dashboard-1280.png").await;

    client
        .find(Locator::XPath("//button[text()='Log out']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#username"))
        .await
        .unwrap();
    client.goto(&format!("{}/", app.url)).await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#username"))
        .await
        .unwrap();
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
    let client = browser(390, 844).await;
    log_in(&client, &app, &user, "correct horse battery").await;
    text_of(&client, "[data-testid=signed-in-user]").await;
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page scrolls sideways on a phone by {overflow}px"
    );
    screenshot(&client, "settings-phone.png").await;
    client.close().await.unwrap();
}
