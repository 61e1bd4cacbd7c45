//! Headless Chromium through ChromeDriver (`TEST_WEBDRIVER_URL`), and the waits a UI test needs.
//! Every wait gives up after [`PATIENCE`] with a message naming what it waited for.

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

/// How long a wait lasts before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A new headless Chromium window of this size.
pub async fn open(width: u32, height: u32) -> Client {
    open_with(width, height, false).await
}

/// Like [`open`], for a server with a self-signed certificate: the browser accepts any
/// certificate (WebDriver's `acceptInsecureCerts`).
pub async fn open_accepting_any_certificate(width: u32, height: u32) -> Client {
    open_with(width, height, true).await
}

async fn open_with(width: u32, height: u32, accept_insecure_certs: bool) -> Client {
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
        json!({ "args": args, "binary": "/usr/bin/chromium" }),
    );
    if accept_insecure_certs {
        caps.insert("acceptInsecureCerts".into(), json!(true));
    }
    // ChromeDriver is a loopback HTTP server: a plain connector, no TLS.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&crate::webdriver_url())
        .await
        .expect("connect to ChromeDriver");
    client.set_window_size(width, height).await.unwrap();
    client
}

/// The element `locator` finds, once it exists; `what` names it in the failure.
async fn wait_for_locator(client: &Client, locator: Locator<'_>, what: &str) -> Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(locator)
        .await
        .unwrap_or_else(|e| panic!("no element {what}: {e}"))
}

/// The element matching `css`, once it exists.
pub async fn wait_for(client: &Client, css: &str) -> Element {
    wait_for_locator(client, Locator::Css(css), css).await
}

/// The element matching `xpath`, once it exists.
pub async fn wait_for_xpath(client: &Client, xpath: &str) -> Element {
    wait_for_locator(client, Locator::XPath(xpath), xpath).await
}

/// Polls `check` every 100 ms until it holds; whether it did within [`PATIENCE`]. For the checks
/// a script cannot make; the caller says what failed.
pub async fn poll_until<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
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

/// Saves what the page looks like as timed-out.png, for whoever reads the failure, and fails.
async fn timed_out(client: &Client, message: &str) -> ! {
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::write(crate::output_dir().join("timed-out.png"), png);
    }
    panic!("{message} (page saved as timed-out.png)");
}

/// Polls `script` (a function body returning a boolean) until it returns true.
pub async fn wait_until(client: &Client, what: &str, script: &str) {
    let held =
        poll_until(|| async { client.execute(script, vec![]).await.unwrap() == json!(true) }).await;
    if !held {
        timed_out(client, &format!("timed out waiting for {what}")).await;
    }
}

/// Waits until some element matching `css` contains `text`.
pub async fn wait_for_text(client: &Client, css: &str, text: &str) {
    let script = format!(
        "return [...document.querySelectorAll({css:?})].some(e => e.textContent.includes({text:?}));"
    );
    wait_until(client, &format!("{text:?} in {css}"), &script).await;
}

/// Waits until the first element matching `css` shows `text` as WebDriver reads it: the rendered
/// text, so an element that is hidden shows nothing. Stricter than [`wait_for_text`], which
/// reads the `textContent` of every match.
pub async fn wait_for_shown_text(client: &Client, css: &str, text: &str) {
    let last = RefCell::new(String::new());
    let last_ref = &last;
    let shown = poll_until(|| async move {
        let now = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let found = now.contains(text);
        *last_ref.borrow_mut() = now;
        found
    })
    .await;
    if !shown {
        let last = last.into_inner();
        timed_out(
            client,
            &format!("{css} never showed {text:?} (last: {last:?})"),
        )
        .await;
    }
}

/// Clicks the element matching `css`, once it exists.
pub async fn click(client: &Client, css: &str) {
    wait_for(client, css).await.click().await.unwrap();
}

/// Clicks the element matching `xpath`, once it exists.
pub async fn click_xpath(client: &Client, xpath: &str) {
    wait_for_xpath(client, xpath).await.click().await.unwrap();
}

/// Clicks the link whose text is exactly `text`, once it exists.
pub async fn click_link(client: &Client, text: &str) {
    let what = format!("link {text:?}");
    let link = wait_for_locator(client, Locator::LinkText(text), &what).await;
    link.click().await.unwrap();
}

/// Clicks the button whose visible text is exactly `label`.
pub async fn click_button(client: &Client, label: &str) {
    let xpath = format!("//button[normalize-space(.)={label:?}]");
    wait_for_xpath(client, &xpath).await.click().await.unwrap();
}

/// Replaces the text of the input `css` by typing, as a person would (select all, then type or
/// delete), so the page sees key and input events for every change. (WebDriver's own clear
/// empties a field without an input event: the page would still hold the old value and could
/// write it back before the typing starts.)
pub async fn fill(client: &Client, css: &str, text: &str) {
    let input = wait_for(client, css).await;
    input.send_keys(&(Key::Control + "a")).await.unwrap();
    if text.is_empty() {
        input.send_keys(&Key::Backspace.to_string()).await.unwrap();
    } else {
        input.send_keys(text).await.unwrap();
    }
}

/// Chooses the option with `value` in the select `css` and tells the page it changed.
pub async fn select(client: &Client, css: &str, value: &str) {
    let script = format!(
        "const s = document.querySelector({css:?}); \
         if (!s || ![...s.options].some(o => o.value === {value:?})) return false; \
         s.value = {value:?}; s.dispatchEvent(new Event('change', {{bubbles: true}})); \
         s.dispatchEvent(new Event('input', {{bubbles: true}})); return true;"
    );
    wait_until(client, &format!("option {value:?} in {css}"), &script).await;
}

/// Waits until the page's path is `path`.
pub async fn wait_for_path(client: &Client, path: &str) {
    wait_until(
        client,
        &format!("the page {path}"),
        &format!("return location.pathname === {path:?};"),
    )
    .await;
}

/// Saves a PNG of the window under the test output folder.
pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(crate::output_dir().join(name), png).unwrap();
}

/// Scrolls the product's virtual log viewer (`[data-testid=log-viewport]`, 20 px rows) from top
/// to bottom and returns every `data-seq` it rendered, sorted and unique, plus how many views
/// showed rows that were not consecutive (a gap or a double inside one view).
pub async fn log_sequence_numbers(client: &Client) -> (Vec<i64>, usize) {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const vp = document.querySelector('[data-testid=log-viewport]');
        const win = vp.querySelector('.log-window');
        const frame = () => new Promise(r => requestAnimationFrame(() => r()));
        const settle = async () => {
            const first = Math.max(0, Math.floor(vp.scrollTop / 20) - 20);
            for (let i = 0; i < 600; i++) {
                const rows = win.querySelectorAll('.log-line');
                if (win.style.transform === `translateY(${first * 20}px)` && rows.length > 0) return;
                await frame();
            }
        };
        (async () => {
            const seen = new Set();
            let broken = 0;
            vp.scrollTop = 0;
            vp.dispatchEvent(new Event('scroll'));
            for (;;) {
                await settle();
                const seqs = [...win.querySelectorAll('.log-line')].map(e => Number(e.dataset.seq));
                for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1] + 1) { broken++; break; }
                seqs.forEach(s => seen.add(s));
                if (vp.scrollTop + vp.clientHeight >= vp.scrollHeight - 1) break;
                vp.scrollTop += vp.clientHeight;
                vp.dispatchEvent(new Event('scroll'));
            }
            done({ seen: [...seen].sort((a, b) => a - b), broken });
        })();
    "#;
    let out = client.execute_async(script, vec![]).await.unwrap();
    let seen = out["seen"]
        .as_array()
        .expect("sequence numbers")
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    (seen, out["broken"].as_u64().unwrap() as usize)
}
