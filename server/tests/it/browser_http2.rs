//! Ten progress pages in one headless Chromium over HTTP/2 (the server's own TLS with a
//! self-signed certificate): all ten streams are open at once and show new events, and an
//! ordinary page loads meanwhile. Over HTTP/1.1 the browser's six connections per host would
//! be taken by the first six streams and the rest would wait.

use backend::models::event::EventRow;
use domain::container::Lifecycle;
use server::tls::{TlsIdentity, TlsSource};
use testkit::browser::{open_accepting_any_certificate, wait_until};
use testkit::fixtures::log_event;
use testkit::server::TestApp;
use testkit::server::browser::{log_in_to, wait_for_lines};

const PASSWORD: &str = "correct horse battery";
const PAGES: usize = 10;

/// The page's connection protocol, as the browser reports it (`h2`, `http/1.1`).
async fn protocol(browser: &fantoccini::Client) -> String {
    browser
        .execute(
            "return performance.getEntriesByType('navigation')[0].nextHopProtocol;",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn ten_progress_pages_stay_live_at_once_over_http2_while_another_page_loads() {
    let plain = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let identity = TlsIdentity::load(&TlsSource::SelfSigned {
        dir: dir.path().to_owned(),
        names: vec!["127.0.0.1".into()],
    })
    .unwrap();
    let url =
        server::spawn_tls_on_loopback(plain.ctx.clone(), &testkit::site_root(), identity.acceptor)
            .await
            .unwrap();
    let app = TestApp {
        url,
        ctx: plain.ctx.clone(),
        database_url: plain.database_url.clone(),
    };
    let user = app.user(PASSWORD).await;
    let mut containers = Vec::new();
    for _ in 0..PAGES {
        let id = app.container(Lifecycle::Creating).await;
        let mut conn = app.ctx.db.get().await.unwrap();
        EventRow::insert_batch(&mut conn, id, &[log_event(1)])
            .await
            .unwrap();
        containers.push(id);
    }

    let browser = open_accepting_any_certificate(1280, 900).await;
    log_in_to(&browser, &app, &user, PASSWORD, "/containers").await;
    assert_eq!(protocol(&browser).await, "h2");
    let mut tabs = Vec::new();
    for id in &containers {
        let tab = browser.new_window(true).await.unwrap().handle;
        browser.switch_to_window(tab.clone()).await.unwrap();
        browser
            .goto(&format!("{}/containers/{id}/progress", app.url))
            .await
            .unwrap();
        wait_for_lines(&browser, 1).await;
        tabs.push(tab);
    }
    // Every page's stream is open at the same time: the server listens for all ten.
    for id in &containers {
        assert!(
            app.subscribers(*id).await > 0,
            "the stream of {id} is not open"
        );
    }

    // An ordinary page loads in another tab while the ten streams stay open.
    let other = browser.new_window(true).await.unwrap().handle;
    browser.switch_to_window(other).await.unwrap();
    browser
        .goto(&format!("{}/containers", app.url))
        .await
        .unwrap();
    wait_until(
        &browser,
        "the container list with ten rows",
        "return document.querySelectorAll('[data-testid=container-table] tbody tr').length === 10;",
    )
    .await;
    assert_eq!(protocol(&browser).await, "h2");

    // A new event reaches every page.
    for id in &containers {
        app.publish(*id, &[log_event(2)]).await;
    }
    for tab in tabs {
        browser.switch_to_window(tab).await.unwrap();
        wait_for_lines(&browser, 2).await;
        assert_eq!(protocol(&browser).await, "h2");
    }
    browser.close().await.unwrap();
}
