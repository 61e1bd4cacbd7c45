//! Headless Chromium through ChromeDriver for the browser tests: start a window, log in, wait
//! for the page, take screenshots.

use super::TestApp;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::time::Duration;

/// How long a wait may take before the test fails (the WASM app has to load first).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A headless Chromium window of the given size.
pub async fn browser(width: u32, height: u32) -> Client {
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

/// Logs in through the login page and waits until the signed-in shell shows the user.
pub async fn log_in(client: &Client, app: &TestApp, user: &str, password: &str) {
    client.goto(&format!("{}/login", app.url)).await.unwrap();
    wait_for(client, "#username")
        .await
        .send_keys(user)
        .await
        .unwrap();
    wait_for(client, "#password")
        .await
        .send_keys(password)
        .await
        .unwrap();
    click(client, "button[type=submit]").await;
    wait_for_text(client, "[data-testid=signed-in-user]", user).await;
}

/// The first element matching `css`, once it is there.
pub async fn wait_for(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
}

/// The text of the first element matching `css`, once it is there.
pub async fn text_of(client: &Client, css: &str) -> String {
    wait_for(client, css).await.text().await.unwrap()
}

/// Clicks the first element matching `css`, once it is there.
pub async fn click(client: &Client, css: &str) {
    wait_for(client, css).await.click().await.unwrap();
}

/// Clicks the button whose text is exactly `text`.
pub async fn click_button(client: &Client, text: &str) {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath(&format!(
            "//button[normalize-space()='{text}']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no button {text:?}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits until the first element matching `css` contains `text`.
pub async fn wait_for_text(client: &Client, css: &str, text: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let last = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if last.contains(text) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{css} never showed {text:?} (last: {last:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `check` until it holds; false if it never did within [`PATIENCE`].
pub async fn wait_until<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The texts of every element matching `css`.
pub async fn texts_of(client: &Client, css: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for element in client.find_all(Locator::Css(css)).await.unwrap() {
        texts.push(element.text().await.unwrap_or_default());
    }
    texts
}

/// How many pixels the page scrolls sideways (0 when it fits the window).
pub async fn sideways_overflow(client: &Client) -> i64 {
    client
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap()
}

/// Saves a screenshot as `test-output/NAME`.
pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(testkit::output_dir().join(name), png).unwrap();
}
