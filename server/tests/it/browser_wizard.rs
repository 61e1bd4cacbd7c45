//! Headless Chromium through the five-step create wizard against the Proxmox simulator: pick a
//! template, see a field error next to its input, walk Next and Back (entries kept), deploy,
//! and land on the progress page with the container stored as entered. Screenshots of every
//! step at 1280 px and of the Configure step at phone width go to the test output folder.

use domain::spec::{ContainerDraft, Ipv4Setup};
use domain::template::{Bucket, Package, PackageManager, Script, Template};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::json;
use std::time::Duration;
use testkit::browser::open;
use testkit::server::TestApp;
use testkit::server::browser::{sideways_overflow, texts_of};

const TOKEN_ID: &str = "root@pam!infrahaus";
const TOKEN_SECRET: &str = "3f1c2b6a-8d4e-4f0a-9b57-2e1d3c4b5a69";
const DEBIAN: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
const PASSWORD: &str = "correct horse battery";
const ROOT_PASSWORD: &str = "r00t-pass-word";
const PATIENCE: Duration = Duration::from_secs(20);

async fn find(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
}

async fn click(client: &Client, css: &str) {
    find(client, css).await.click().await.unwrap();
}

/// Clicks the button whose text is exactly `text`.
async fn click_button(client: &Client, text: &str) {
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

/// Replaces an input's text by typing, so the page sees input events.
async fn fill(client: &Client, css: &str, text: &str) {
    let input = find(client, css).await;
    input.send_keys(&(Key::Control + "a")).await.unwrap();
    input.send_keys(&Key::Backspace.to_string()).await.unwrap();
    if !text.is_empty() {
        input.send_keys(text).await.unwrap();
    }
}

async fn value_of(client: &Client, css: &str) -> String {
    find(client, css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn text_of(client: &Client, css: &str) -> String {
    find(client, css).await.text().await.unwrap()
}

async fn is_checked(client: &Client, css: &str) -> bool {
    find(client, css)
        .await
        .prop("checked")
        .await
        .unwrap()
        .as_deref()
        == Some("true")
}

/// Polls until `check` holds; panics with `what` when it never does.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the stepper shows `label` as the current step.
async fn on_step(client: &Client, label: &str) {
    let css = format!("li[data-step={label}][aria-current=step]");
    find(client, &css).await;
}

/// Saves a screenshot of the page from its top as `test-output/NAME`.
async fn screenshot(client: &Client, name: &str) {
    client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .unwrap();
    testkit::browser::screenshot(client, name).await;
}

async fn log_in(client: &Client, app: &TestApp, user: &str) {
    client.goto(&format!("{}/login", app.url)).await.unwrap();
    fill(client, "#username", user).await;
    fill(client, "#password", PASSWORD).await;
    click(client, "button[type=submit]").await;
    eventually("the shell shows the user", || async {
        client
            .find(Locator::Css("[data-testid=signed-in-user]"))
            .await
            .ok()
            .is_some()
    })
    .await;
    let shown = find(client, "[data-testid=signed-in-user]").await;
    eventually("the user name", || async {
        shown.text().await.unwrap_or_default() == user
    })
    .await;
}

fn package(name: &str) -> Package {
    Package {
        name: name.into(),
        manager: PackageManager::Apt,
        version: None,
    }
}

fn script(name: &str, content: &str) -> Script {
    Script {
        name: name.into(),
        description: format!("Runs {name}"),
        content: content.into(),
        enabled: true,
    }
}

/// A template with two packages, two scripts and a bucket of one package.
async fn web_template(app: &TestApp) {
    let mut conn = app.ctx.db.get().await.unwrap();
    let bucket = backend::models::bucket::insert(
        &mut conn,
        &Bucket {
            name: "tools".into(),
            description: String::new(),
            packages: vec![package("jq")],
        },
    )
    .await
    .unwrap();
    backend::models::template::insert(
        &mut conn,
        &Template {
            name: "Web Server".into(),
            description: "nginx with a start page".into(),
            os_template: "debian-12-standard".into(),
            cores: 2,
            memory_mib: 1024,
            tags: vec!["web".into()],
            packages: vec![package("nginx"), package("curl")],
            scripts: vec![
                script("10-install.sh", "echo install"),
                script("20-site.sh", "echo site"),
            ],
            bucket_ids: vec![bucket],
            ..Template::default()
        },
    )
    .await
    .unwrap();
}

/// A simulated node registered as `pve` through the settings server fn.
async fn node(app: &TestApp, sim: &pvesim::SimHandle) {
    let (client, _) = app.logged_in().await;
    let (status, body) = app
        .call(
            &client,
            "/api/nodes/save",
            json!({"id": null, "form": {
                "name": "pve",
                "host": sim.api_addr.ip().to_string(),
                "port": sim.api_addr.port().to_string(),
                "ssh_port": "22",
                "token_id": TOKEN_ID, "token_secret": TOKEN_SECRET,
                "tls_mode": "fingerprint", "fingerprint": sim.fingerprint,
            }}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn walk_all_five_steps_back_and_forth_then_deploy() {
    let sim = pvesim::Simulator::start(
        pvesim::SimConfig::builder()
            .token(TOKEN_ID, TOKEN_SECRET)
            .build(),
    )
    .await
    .expect("the simulator starts");
    let app = TestApp::start().await;
    node(&app, &sim).await;
    web_template(&app).await;
    let user = app.user(PASSWORD).await;

    let client = open(1280, 1100).await;
    log_in(&client, &app, &user).await;
    client
        .goto(&format!("{}/containers/new", app.url))
        .await
        .unwrap();

    // 1. Template
    on_step(&client, "Template").await;
    find(&client, "[data-template='Web Server']").await;
    screenshot(&client, "wizard-1-template.png").await;
    click_button(&client, "Use Web Server").await;

    // 2. Configure: the template's defaults and the node's lists are filled in.
    on_step(&client, "Configure").await;
    assert_eq!(text_of(&client, "label[for=hostname]").await, "Hostname");
    eventually("the OS template matched to the template's OS", || async {
        value_of(&client, "#os_template").await == DEBIAN
    })
    .await;
    assert_eq!(value_of(&client, "#hostname").await, "web-server");
    assert_eq!(value_of(&client, "#cores").await, "2");
    assert_eq!(value_of(&client, "#memory_mib").await, "1024");
    assert_eq!(value_of(&client, "#storage").await, "local-lvm");
    assert_eq!(value_of(&client, "#bridge").await, "vmbr0");
    let vmid = value_of(&client, "#vmid").await;
    assert!(
        vmid.parse::<u32>().unwrap() >= 100,
        "VMID from the node: {vmid}"
    );
    // Only root-disk storages are offered.
    let storages = texts_of(&client, "#storage option").await;
    assert!(
        storages.iter().all(|s| !s.starts_with("local (")),
        "{storages:?}"
    );

    // A step validates before Next; the error sits next to its field.
    fill(&client, "#hostname", "bad_host").await;
    fill(&client, "#root_password", "abc").await;
    click(&client, "#wizard-next").await;
    let error = text_of(&client, "#hostname-error").await;
    assert!(!error.is_empty());
    assert!(!text_of(&client, "#root_password-error").await.is_empty());
    let described_by = find(&client, "#hostname")
        .await
        .attr("aria-describedby")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(described_by.contains("hostname-error"), "{described_by}");
    on_step(&client, "Configure").await;
    client
        .execute(
            "window.scrollTo(0, document.getElementById('hostname').getBoundingClientRect().top + window.scrollY - 160);",
            vec![],
        )
        .await
        .unwrap();
    testkit::browser::screenshot(&client, "wizard-2-configure-error.png").await;

    fill(&client, "#hostname", "web-1").await;
    // A corrected field loses its error at once; the others keep theirs.
    eventually("the hostname error goes", || async {
        client.find(Locator::Css("#hostname-error")).await.is_err()
    })
    .await;
    assert!(!text_of(&client, "#root_password-error").await.is_empty());
    fill(&client, "#root_password", ROOT_PASSWORD).await;
    fill(&client, "#root_password_confirm", ROOT_PASSWORD).await;
    click(&client, "#ipv4_static").await;
    fill(&client, "#ipv4_cidr", "192.168.100.50/24").await;
    fill(&client, "#gateway", "192.168.100.1").await;
    fill(&client, "#tags", "web, home").await;
    screenshot(&client, "wizard-2-configure.png").await;
    click(&client, "#wizard-next").await;

    // 3. Packages: the template's and the bucket's, each selectable, plus a custom one.
    on_step(&client, "Packages").await;
    let packages = texts_of(&client, "[data-testid=wizard-packages] li").await;
    assert_eq!(packages.len(), 3, "{packages:?}");
    assert!(packages[0].contains("nginx") && packages[1].contains("curl"));
    assert!(packages[2].contains("jq") && packages[2].contains("bucket tools"));
    let curl = find(
        &client,
        "[data-testid=wizard-packages] li:nth-child(2) input",
    )
    .await;
    curl.click().await.unwrap();
    fill(&client, "#custom_package_name", "Bad Name").await;
    click_button(&client, "Add package").await;
    assert!(
        !text_of(&client, "#custom_package_name-error")
            .await
            .is_empty()
    );
    fill(&client, "#custom_package_name", "htop").await;
    click_button(&client, "Add package").await;
    eventually("htop added", || async {
        texts_of(&client, "[data-testid=wizard-packages] li")
            .await
            .iter()
            .any(|t| t.contains("htop"))
    })
    .await;
    screenshot(&client, "wizard-3-packages.png").await;
    click(&client, "#wizard-next").await;

    // 4. Scripts: disable the first, then move the second above it.
    on_step(&client, "Scripts").await;
    let scripts = texts_of(&client, "[data-testid=wizard-scripts] > li code").await;
    assert_eq!(scripts, ["10-install.sh", "20-site.sh"]);
    click(
        &client,
        "[data-testid=wizard-scripts] > li:first-child input[type=checkbox]",
    )
    .await;
    let down = find(&client, "button[aria-label='Move 10-install.sh down']").await;
    assert_eq!(down.text().await.unwrap(), "Move down");
    down.click().await.unwrap();
    eventually("20-site.sh moved up", || async {
        texts_of(&client, "[data-testid=wizard-scripts] > li code").await
            == ["20-site.sh", "10-install.sh"]
    })
    .await;
    screenshot(&client, "wizard-4-scripts.png").await;
    click(&client, "#wizard-next").await;

    // 5. Review: everything on one page, the password masked.
    on_step(&client, "Review").await;
    assert_eq!(
        text_of(&client, "[data-testid=review-hostname]").await,
        "web-1"
    );
    assert_eq!(text_of(&client, "[data-testid=review-vmid]").await, vmid);
    assert_eq!(
        text_of(&client, "[data-testid=review-template]").await,
        "Web Server"
    );
    let network = text_of(&client, "[data-testid=review-network]").await;
    assert_eq!(network, "vmbr0, 192.168.100.50/24 via 192.168.100.1");
    let review_packages = text_of(&client, "[data-testid=review-packages]").await;
    assert!(review_packages.contains("nginx") && review_packages.contains("htop"));
    assert!(!review_packages.contains("curl"), "{review_packages}");
    assert!(
        text_of(&client, "[data-testid=review-password]")
            .await
            .contains("hidden")
    );
    let page = client.source().await.unwrap();
    assert!(
        !page.contains(ROOT_PASSWORD),
        "the password is shown on the review page"
    );
    screenshot(&client, "wizard-5-review.png").await;

    // Back keeps everything entered.
    click(&client, "#wizard-back").await;
    on_step(&client, "Scripts").await;
    assert_eq!(
        texts_of(&client, "[data-testid=wizard-scripts] > li code").await,
        ["20-site.sh", "10-install.sh"]
    );
    assert!(
        !is_checked(
            &client,
            "[data-testid=wizard-scripts] > li:last-child input[type=checkbox]"
        )
        .await
    );
    click(&client, "#wizard-back").await;
    on_step(&client, "Packages").await;
    assert!(
        !is_checked(
            &client,
            "[data-testid=wizard-packages] li:nth-child(2) input"
        )
        .await
    );
    assert!(
        texts_of(&client, "[data-testid=wizard-packages] li")
            .await
            .iter()
            .any(|t| t.contains("htop"))
    );
    click(&client, "#wizard-back").await;
    on_step(&client, "Configure").await;
    assert_eq!(value_of(&client, "#hostname").await, "web-1");
    assert_eq!(value_of(&client, "#ipv4_cidr").await, "192.168.100.50/24");
    assert_eq!(value_of(&client, "#root_password").await, ROOT_PASSWORD);
    assert_eq!(value_of(&client, "#vmid").await, vmid);
    // The stepper jumps forward only past a valid step.
    fill(&client, "#hostname", "bad_host").await;
    click(&client, "li[data-step=Review] button").await;
    assert!(!text_of(&client, "#hostname-error").await.is_empty());
    on_step(&client, "Configure").await;
    fill(&client, "#hostname", "web-1").await;
    click(&client, "#wizard-next").await;
    on_step(&client, "Packages").await;
    click(&client, "#wizard-next").await;
    on_step(&client, "Scripts").await;
    click(&client, "#wizard-next").await;
    on_step(&client, "Review").await;

    // The review fits a phone too.
    client.set_window_size(390, 844).await.unwrap();
    eventually("the review fits a phone's width", || async {
        sideways_overflow(&client).await <= 0
    })
    .await;
    screenshot(&client, "wizard-phone-review.png").await;
    client.set_window_size(1280, 1100).await.unwrap();

    // Deploy lands on the progress page of the stored container.
    click(&client, "#wizard-deploy").await;
    eventually("the progress page", || async {
        client
            .current_url()
            .await
            .map(|u| u.path().ends_with("/progress"))
            .unwrap_or(false)
    })
    .await;
    let url = client.current_url().await.unwrap();
    let id: domain::ContainerId = url
        .path()
        .trim_start_matches("/containers/")
        .trim_end_matches("/progress")
        .parse()
        .unwrap();
    let mut conn = app.ctx.db.get().await.unwrap();
    let rows = backend::models::ContainerRow::list(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, id);
    let spec: ContainerDraft = serde_json::from_value(rows[0].config.clone()).unwrap();
    assert_eq!(spec.hostname, "web-1");
    assert_eq!(spec.vmid.to_string(), vmid);
    assert_eq!(spec.os_template, DEBIAN);
    assert_eq!(
        spec.ipv4,
        Ipv4Setup::Static {
            cidr: "192.168.100.50/24".into(),
            gateway: Some("192.168.100.1".into())
        }
    );
    assert_eq!(spec.tags, ["web", "home"]);
    let names: Vec<&str> = spec.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["nginx", "jq", "htop"]);
    let order: Vec<(&str, bool)> = spec
        .scripts
        .iter()
        .map(|s| (s.name.as_str(), s.enabled))
        .collect();
    assert_eq!(order, [("20-site.sh", true), ("10-install.sh", false)]);
    assert_eq!(spec.template_name.as_deref(), Some("Web Server"));

    // "Create another like this" opens the wizard with the same answers, a new hostname, the
    // node's next VMID, no static address and no password.
    testkit::browser::click_link(&client, "Create another like this").await;
    on_step(&client, "Configure").await;
    eventually("the copied answers", || async {
        value_of(&client, "#hostname").await == "web-2"
    })
    .await;
    eventually("a new VMID from the node", || async {
        let suggested = value_of(&client, "#vmid").await;
        !suggested.is_empty() && suggested != vmid
    })
    .await;
    assert_eq!(value_of(&client, "#cores").await, spec.cores.to_string());
    assert_eq!(
        value_of(&client, "#memory_mib").await,
        spec.memory_mib.to_string()
    );
    assert_eq!(value_of(&client, "#os_template").await, DEBIAN);
    assert!(is_checked(&client, "#ipv4_static").await);
    assert_eq!(value_of(&client, "#ipv4_cidr").await, "");
    assert_eq!(value_of(&client, "#gateway").await, "192.168.100.1");
    assert_eq!(value_of(&client, "#root_password").await, "");
    assert_eq!(value_of(&client, "#tags").await, "web, home");
    client.close().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn on_a_phone_the_configure_step_fits_and_an_unreachable_node_is_explained() {
    let app = TestApp::start().await;
    let user = app.user(PASSWORD).await;
    // A node whose API port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (api, _) = app.logged_in().await;
    let (status, body) = app
        .call(
            &api,
            "/api/nodes/save",
            json!({"id": null, "form": {
                "name": "attic", "host": "127.0.0.1", "port": port.to_string(), "ssh_port": "22",
                "token_id": TOKEN_ID, "token_secret": TOKEN_SECRET,
                "tls_mode": "fingerprint", "fingerprint": "ab".repeat(32),
            }}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let client = open(390, 844).await;
    log_in(&client, &app, &user).await;
    client
        .goto(&format!("{}/containers/new", app.url))
        .await
        .unwrap();
    on_step(&client, "Template").await;
    click_button(&client, "Start blank").await;
    on_step(&client, "Configure").await;
    let message = text_of(&client, "[data-testid=node-unreachable]").await;
    assert!(
        message.contains("Cannot reach Proxmox node 'attic'"),
        "{message}"
    );
    assert_eq!(value_of(&client, "#cores").await, "1");
    assert_eq!(value_of(&client, "#memory_mib").await, "512");

    // Generate fills both root password fields with one strong password and shows it once.
    click_button(&client, "Generate").await;
    let generated = text_of(&client, "#generated_password").await;
    assert_eq!(
        generated.len(),
        domain::spec::GENERATED_PASSWORD_LEN,
        "{generated}"
    );
    assert_eq!(value_of(&client, "#root_password").await, generated);
    assert_eq!(value_of(&client, "#root_password_confirm").await, generated);
    assert_eq!(
        text_of(&client, "label[for=generated_password]").await,
        "Generated password"
    );
    click_button(&client, "Generate").await;
    eventually("a new password on the second click", || async {
        text_of(&client, "#generated_password").await != generated
    })
    .await;
    assert_eq!(
        value_of(&client, "#root_password").await,
        value_of(&client, "#root_password_confirm").await
    );
    let overflow = sideways_overflow(&client).await;
    assert!(overflow <= 0, "the page scrolls sideways by {overflow}px");
    screenshot(&client, "wizard-phone-configure.png").await;
    client.close().await.unwrap();
}
