//! What the server's browser tests share on top of `testkit::browser`: logging in to a
//! [`TestApp`], and reading the page.

use super::TestApp;
use fantoccini::{Client, Locator};
use testkit::browser::{click, wait_for, wait_for_shown_text};

/// Types `user` and `password` into the login form on the page and submits it.
pub async fn submit_login(client: &Client, user: &str, password: &str) {
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
}

/// Logs in through the login page and waits until the signed-in shell shows the user.
pub async fn log_in(client: &Client, app: &TestApp, user: &str, password: &str) {
    client.goto(&format!("{}/login", app.url)).await.unwrap();
    submit_login(client, user, password).await;
    wait_for_shown_text(client, "[data-testid=signed-in-user]", user).await;
}

/// The text of the first element matching `css`, once it is there.
pub async fn text_of(client: &Client, css: &str) -> String {
    wait_for(client, css).await.text().await.unwrap()
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
