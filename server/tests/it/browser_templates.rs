//! Headless Chromium: create a template with a script, a file, a package and a bucket through
//! the form, see a field error next to its input, then find the template in the list by search
//! and by tag, at desktop and phone width.

use domain::template::{Bucket, Package, PackageManager, Template};
use fantoccini::{Client, Locator};
use testkit::browser::{
    click, click_button, click_link, fill, open, poll_until, screenshot, wait_for,
    wait_for_shown_text, wait_for_xpath,
};
use testkit::server::TestApp;
use testkit::server::browser::{log_in, sideways_overflow, text_of, texts_of};

async fn card_names(client: &Client) -> Vec<String> {
    texts_of(client, "[data-testid=template-card] h2").await
}

/// Waits until the list shows exactly `names`.
async fn wait_for_cards(client: &Client, names: &[&str]) {
    let shown = poll_until(|| async { card_names(client).await == names }).await;
    assert!(
        shown,
        "the list shows {:?}, not {names:?}",
        card_names(client).await
    );
}

#[tokio::test]
async fn a_template_made_in_the_form_is_found_in_the_list_by_name_and_tag() {
    let app = TestApp::start().await;
    let user = app.user("correct horse battery").await;
    {
        let mut conn = app.ctx.db.get().await.unwrap();
        backend::models::bucket::insert(
            &mut conn,
            &Bucket {
                name: "tools".into(),
                description: String::new(),
                packages: vec![Package {
                    name: "curl".into(),
                    manager: PackageManager::Apt,
                    version: None,
                }],
            },
        )
        .await
        .unwrap();
        backend::models::template::insert(
            &mut conn,
            &Template {
                name: "postgres-db".into(),
                tags: vec!["database".into()],
                ..Template::default()
            },
        )
        .await
        .unwrap();
    }
    let client = open(1280, 900).await;
    log_in(&client, &app, &user, "correct horse battery").await;

    client
        .goto(&format!("{}/templates/new", app.url))
        .await
        .unwrap();
    wait_for_shown_text(&client, "h1", "New template").await;
    fill(&client, "#name", "my-web").await;
    fill(&client, "#tags", "web, demo").await;
    fill(&client, "#cores", "2").await;
    fill(&client, "#memory_mib", "1024").await;

    click_button(&client, "Add script").await;
    fill(
        &client,
        "[data-testid=script-rows] input[id$='-name']",
        "10-nginx.sh",
    )
    .await;
    wait_for(&client, "[data-testid=script-rows] textarea")
        .await
        .send_keys("apt-get install -y nginx\n")
        .await
        .unwrap();

    // A second script, moved before the first and switched off.
    click_button(&client, "Add script").await;
    fill(
        &client,
        "[data-testid=script-rows] li:nth-child(2) input[id$='-name']",
        "05-first.sh",
    )
    .await;
    click(&client, "button[aria-label='Move script 2 up']").await;
    let moved = poll_until(|| async {
        match client
            .find(Locator::Css(
                "[data-testid=script-rows] li:nth-child(1) input[id$='-name']",
            ))
            .await
        {
            Ok(input) => input.prop("value").await.unwrap().as_deref() == Some("05-first.sh"),
            Err(_) => false,
        }
    })
    .await;
    assert!(moved, "Move up did not move the second script first");
    click(
        &client,
        "[data-testid=script-rows] li:nth-child(1) input[type=checkbox]",
    )
    .await;

    click_button(&client, "Add file").await;
    fill(
        &client,
        "[data-testid=file-rows] input[id$='-name']",
        "index.html",
    )
    .await;
    // A relative directory: the error shows next to that input, and nothing is saved.
    fill(
        &client,
        "[data-testid=file-rows] input[id$='-target_dir']",
        "var/www/html",
    )
    .await;
    wait_for(&client, "[data-testid=file-rows] textarea")
        .await
        .send_keys("<h1>hello</h1>")
        .await
        .unwrap();

    click_button(&client, "Add package").await;
    fill(
        &client,
        "[data-testid=package-rows] input[id$='-name']",
        "nginx",
    )
    .await;

    // The bucket is chosen by its label.
    client
        .find(Locator::XPath("//label[contains(., 'tools')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    click_button(&client, "Create template").await;
    let target_dir = wait_for(&client, "[data-testid=file-rows] input[id$='-target_dir']").await;
    let error_id = format!("{}-error", target_dir.attr("id").await.unwrap().unwrap());
    let error = text_of(&client, &format!("#{error_id}")).await;
    assert!(error.contains("absolute"), "{error}");
    assert_eq!(
        target_dir.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert!(
        target_dir
            .attr("aria-describedby")
            .await
            .unwrap()
            .unwrap()
            .contains(&error_id)
    );
    client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&target_dir).unwrap()],
        )
        .await
        .unwrap();
    screenshot(&client, "template-form-error-1280.png").await;

    fill(
        &client,
        "[data-testid=file-rows] input[id$='-target_dir']",
        "/var/www/html",
    )
    .await;
    click_button(&client, "Create template").await;

    // The detail page, with its tabs.
    wait_for_shown_text(&client, "h1", "my-web").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/templates/")
    );
    click(&client, "#tab-scripts").await;
    wait_for_shown_text(&client, "#panel-scripts", "10-nginx.sh").await;
    let scripts = text_of(&client, "#panel-scripts").await;
    let first = scripts.find("05-first.sh").expect("the moved script");
    assert!(first < scripts.find("10-nginx.sh").unwrap(), "{scripts}");
    assert!(scripts.contains("disabled"), "{scripts}");
    click(&client, "#tab-files").await;
    wait_for_shown_text(&client, "#panel-files", "/var/www/html/index.html").await;
    click(&client, "#tab-packages").await;
    wait_for_shown_text(&client, "#panel-packages", "nginx").await;
    wait_for_shown_text(&client, "#panel-packages", "tools").await;
    wait_for_shown_text(&client, "#panel-packages", "curl").await;
    assert_eq!(
        wait_for(&client, "#tab-packages")
            .await
            .attr("aria-selected")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    screenshot(&client, "template-detail-1280.png").await;

    // The list: both templates, then search and tag filter.
    click_link(&client, "Templates").await;
    wait_for_cards(&client, &["my-web", "postgres-db"]).await;
    let card = text_of(&client, "[data-testid=template-card]:first-child").await;
    for expected in [
        "2 cores",
        "1 GiB RAM",
        "2 scripts",
        "1 file",
        "1 package",
        "web",
        "demo",
    ] {
        assert!(card.contains(expected), "{expected} missing from {card:?}");
    }

    fill(&client, "#template-search", "WEB").await;
    wait_for_cards(&client, &["my-web"]).await;
    fill(&client, "#template-search", "").await;
    wait_for_cards(&client, &["my-web", "postgres-db"]).await;

    wait_for(&client, "#template-tag")
        .await
        .select_by_value("database")
        .await
        .unwrap();
    wait_for_cards(&client, &["postgres-db"]).await;
    wait_for(&client, "#template-tag")
        .await
        .select_by_value("demo")
        .await
        .unwrap();
    wait_for_cards(&client, &["my-web"]).await;
    screenshot(&client, "templates-list-1280.png").await;

    wait_for(&client, "#template-tag")
        .await
        .select_by_value("")
        .await
        .unwrap();
    wait_for_cards(&client, &["my-web", "postgres-db"]).await;
    client.set_window_size(390, 844).await.unwrap();
    let fits = poll_until(|| async { sideways_overflow(&client).await <= 0 }).await;
    assert!(
        fits,
        "the list scrolls sideways on a phone by {}px",
        sideways_overflow(&client).await
    );
    screenshot(&client, "templates-list-phone.png").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn buckets_are_made_and_renamed_and_a_template_is_edited_then_deleted_after_confirming() {
    let app = TestApp::start().await;
    let user = app.user("correct horse battery").await;
    let template_id = {
        let mut conn = app.ctx.db.get().await.unwrap();
        backend::models::template::insert(
            &mut conn,
            &Template {
                name: "web".into(),
                ..Template::default()
            },
        )
        .await
        .unwrap()
    };
    let client = open(1280, 900).await;
    log_in(&client, &app, &user, "correct horse battery").await;

    // A new bucket with one package.
    client.goto(&format!("{}/buckets", app.url)).await.unwrap();
    wait_for_shown_text(&client, "main", "No buckets yet.").await;
    click_button(&client, "New bucket").await;
    fill(&client, "#bucket-name", "tools").await;
    click_button(&client, "Add package").await;
    fill(
        &client,
        "[data-testid=bucket-package-rows] input[id$='-name']",
        "curl",
    )
    .await;
    click_button(&client, "Save bucket").await;
    wait_for_shown_text(&client, "[data-testid=bucket-card]", "apt curl").await;

    // Renamed, with a second package that is wrong at first.
    click_button(&client, "Edit bucket").await;
    fill(&client, "#bucket-name", "basics").await;
    click_button(&client, "Add package").await;
    let second = "[data-testid=bucket-package-rows] li:nth-child(2) input[id$='-name']";
    fill(&client, second, "htop;reboot").await;
    click_button(&client, "Save bucket").await;
    let input = wait_for(&client, second).await;
    let error_id = format!("{}-error", input.attr("id").await.unwrap().unwrap());
    assert!(
        text_of(&client, &format!("#{error_id}"))
            .await
            .contains("Not a valid apt package name")
    );
    fill(&client, second, "htop").await;
    click_button(&client, "Save bucket").await;
    wait_for_shown_text(&client, "[data-testid=bucket-card] h2", "basics").await;
    wait_for_shown_text(&client, "[data-testid=bucket-card]", "apt curl, apt htop").await;
    screenshot(&client, "buckets-1280.png").await;

    // The template includes it and gets one more core.
    client
        .goto(&format!("{}/templates/{template_id}/edit", app.url))
        .await
        .unwrap();
    wait_for_shown_text(&client, "h1", "Edit template web").await;
    wait_for_xpath(&client, "//label[contains(., 'basics')]")
        .await
        .click()
        .await
        .unwrap();
    fill(&client, "#cores", "3").await;
    click_button(&client, "Add script").await;
    click_button(&client, "Add file").await;
    click(&client, "button[aria-label='Remove file 1']").await;
    wait_for_shown_text(&client, "main", "No files yet.").await;
    // The form with its rows fits a phone.
    client.set_window_size(390, 844).await.unwrap();
    let fits = poll_until(|| async { sideways_overflow(&client).await <= 0 }).await;
    assert!(
        fits,
        "the form scrolls sideways on a phone by {}px",
        sideways_overflow(&client).await
    );
    screenshot(&client, "template-form-phone.png").await;
    client.set_window_size(1280, 900).await.unwrap();
    fill(
        &client,
        "[data-testid=script-rows] input[id$='-name']",
        "10-setup.sh",
    )
    .await;
    click_button(&client, "Save template").await;
    let cores = wait_for_xpath(&client, "//dt[text()='CPU cores']/following-sibling::dd[1]").await;
    assert_eq!(cores.text().await.unwrap(), "3");
    click(&client, "#tab-packages").await;
    wait_for_shown_text(&client, "#panel-packages", "basics").await;
    wait_for_shown_text(&client, "#panel-packages", "htop").await;
    click(&client, "#tab-scripts").await;
    wait_for_shown_text(&client, "#panel-scripts", "10-setup.sh").await;
    click(&client, "#tab-files").await;
    wait_for_shown_text(&client, "#panel-files", "writes no files").await;

    // Delete asks first; "Keep template" keeps it.
    click_button(&client, "Delete template").await;
    wait_for_shown_text(&client, ".page-head", "Delete this template?").await;
    click_button(&client, "Keep template").await;
    wait_for(&client, "a[href$='/edit']").await;
    click_button(&client, "Delete template").await;
    click_button(&client, "Yes, delete template").await;
    wait_for_shown_text(&client, "main", "No templates yet.").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/templates");

    client.goto(&format!("{}/buckets", app.url)).await.unwrap();
    click_button(&client, "Delete bucket").await;
    click_button(&client, "Yes, delete bucket").await;
    wait_for_shown_text(&client, "main", "No buckets yet.").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn discover_templates_loads_the_shipped_folder_and_says_what_it_did() {
    let app = TestApp::start().await;
    let user = app.user("correct horse battery").await;
    let client = open(1280, 900).await;
    log_in(&client, &app, &user, "correct horse battery").await;
    client
        .goto(&format!("{}/templates", app.url))
        .await
        .unwrap();
    wait_for_shown_text(&client, "main", "No templates yet.").await;

    click_button(&client, "Discover templates").await;
    wait_for_shown_text(
        &client,
        "[data-testid=discover-result]",
        "3 added, 0 updated, 0 unchanged",
    )
    .await;
    wait_for_cards(&client, &["debian-base", "dev-toolbox", "web-server"]).await;
    screenshot(&client, "templates-discovered-1280.png").await;

    click_button(&client, "Discover templates").await;
    wait_for_shown_text(
        &client,
        "[data-testid=discover-result]",
        "0 added, 0 updated, 3 unchanged",
    )
    .await;
    wait_for_cards(&client, &["debian-base", "dev-toolbox", "web-server"]).await;
    client.close().await.unwrap();
}
