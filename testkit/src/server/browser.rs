//! What browser tests of the server share on top of [`crate::browser`]: logging in to a
//! [`TestApp`], and reading the page.

use super::TestApp;
use crate::browser::{click, wait_for, wait_for_path, wait_for_shown_text, wait_until};
use fantoccini::{Client, Locator};

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

/// Opens `path`, which sends the visitor to the login page, logs in, and waits for `path`.
pub async fn log_in_to(client: &Client, app: &TestApp, user: &str, password: &str, path: &str) {
    client.goto(&format!("{}{path}", app.url)).await.unwrap();
    submit_login(client, user, password).await;
    wait_for_path(client, path).await;
}

/// Waits until the progress page's log viewer holds `count` lines.
pub async fn wait_for_lines(client: &Client, count: i64) {
    wait_until(
        client,
        &format!("{count} log lines"),
        &format!(
            "const v = document.querySelector('[data-testid=log-viewport]'); \
             return !!v && v.dataset.count === '{count}';"
        ),
    )
    .await;
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
