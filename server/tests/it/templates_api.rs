//! The template and bucket server functions against real PostgreSQL: create, list, load,
//! update, delete; field errors; sessions; discovery of a templates folder.

use serde_json::{Value, json};
use testkit::server::TestApp;

fn template(name: &str) -> Value {
    json!({
        "name": name,
        "description": "A small web server",
        "source": "custom",
        "version": "1.0",
        "os_template": "debian-12-standard",
        "cores": 2,
        "memory_mib": 1024,
        "swap_mib": 512,
        "disk_gib": 8,
        "storage": "local-lvm",
        "bridge": "vmbr0",
        "unprivileged": true,
        "nesting": true,
        "keyctl": false,
        "fuse": false,
        "tags": ["web", "Debian"],
        "scripts": [
            {"name": "10-install.sh", "description": "install", "content": "apt-get install -y nginx", "enabled": true},
            {"name": "20-page.sh", "description": "", "content": "echo hi > /var/www/html/index.html", "enabled": false}
        ],
        "files": [
            {"name": "site.conf", "target_dir": "/etc/nginx//sites-enabled/", "policy": "backup", "content": "server {}"}
        ],
        "packages": [
            {"name": "nginx", "manager": "apt", "version": null},
            {"name": "left-pad", "manager": "npm", "version": "1.3.0"}
        ],
        "bucket_ids": []
    })
}

fn bucket(name: &str) -> Value {
    json!({
        "name": name,
        "description": "everyday tools",
        "packages": [
            {"name": "curl", "manager": "apt", "version": null},
            {"name": "requests", "manager": "pip", "version": "2.32.3"}
        ]
    })
}

async fn save_template(
    app: &TestApp,
    client: &reqwest::Client,
    id: Value,
    t: Value,
) -> (u16, Value) {
    app.call(
        client,
        "/api/templates/save",
        json!({"id": id, "template": t}),
    )
    .await
}

async fn save_bucket(app: &TestApp, client: &reqwest::Client, id: Value, b: Value) -> (u16, Value) {
    app.call(client, "/api/buckets/save", json!({"id": id, "bucket": b}))
        .await
}

#[tokio::test]
async fn a_template_is_created_listed_loaded_updated_and_deleted() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let (status, tools) = save_bucket(&app, &client, Value::Null, bucket("tools")).await;
    assert_eq!(status, 200, "{tools}");

    let mut web = template("web");
    web["bucket_ids"] = json!([tools["id"], tools["id"]]);
    // Whatever the browser claims, a template made in the app is custom.
    web["source"] = json!("filesystem");
    let (status, id) = save_template(&app, &client, Value::Null, web.clone()).await;
    assert_eq!(status, 200, "{id}");

    let (status, list) = app.call(&client, "/api/templates/list", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        list,
        json!([{
            "id": id, "name": "web", "description": "A small web server", "source": "custom",
            "os_template": "debian-12-standard", "cores": 2, "memory_mib": 1024, "disk_gib": 8,
            "tags": ["web", "debian"], "script_count": 2, "file_count": 1, "package_count": 2
        }])
    );

    let (status, detail) = app
        .call(&client, "/api/templates/get", json!({"id": id}))
        .await;
    assert_eq!(status, 200, "{detail}");
    let t = &detail["template"];
    assert_eq!(t["files"][0]["target_dir"], "/etc/nginx/sites-enabled");
    assert_eq!(t["files"][0]["policy"], "backup");
    assert_eq!(t["scripts"][1]["enabled"], false);
    assert_eq!(t["packages"][1]["version"], "1.3.0");
    assert_eq!(t["bucket_ids"], json!([tools["id"]]));
    assert_eq!(detail["buckets"][0]["bucket"]["name"], "tools");
    assert_eq!(
        detail["buckets"][0]["bucket"]["packages"][1]["name"],
        "requests"
    );

    // Update: rename, reorder and drop a script, drop the bucket; the id stays.
    let mut changed = t.clone();
    changed["name"] = json!("web-2");
    changed["scripts"] = json!([t["scripts"][1], t["scripts"][0]]);
    changed["scripts"][0]["enabled"] = json!(true);
    changed["bucket_ids"] = json!([]);
    let (status, same) = save_template(&app, &client, id.clone(), changed).await;
    assert_eq!((status, &same), (200, &id));
    let (_, detail) = app
        .call(&client, "/api/templates/get", json!({"id": id}))
        .await;
    let names: Vec<&str> = detail["template"]["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["20-page.sh", "10-install.sh"]);
    assert_eq!(detail["template"]["scripts"][0]["enabled"], true);
    assert_eq!(detail["template"]["name"], "web-2");
    assert_eq!(detail["buckets"], json!([]));

    let (status, _) = app
        .call(&client, "/api/templates/delete", json!({"id": id}))
        .await;
    assert_eq!(status, 200);
    let (_, list) = app.call(&client, "/api/templates/list", json!({})).await;
    assert_eq!(list, json!([]));
    let (status, body) = app
        .call(&client, "/api/templates/get", json!({"id": id}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found", "{body}");
    let (_, body) = app
        .call(&client, "/api/templates/delete", json!({"id": id}))
        .await;
    assert_eq!(body["error"], "not_found", "{body}");
    // The bucket is still there.
    let (_, buckets) = app.call(&client, "/api/buckets/list", json!({})).await;
    assert_eq!(buckets.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn every_invalid_template_field_is_named_and_nothing_is_written() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let cases: &[(&str, &str, Value)] = &[
        ("name", "/name", json!("  ")),
        ("description", "/description", json!("x".repeat(2001))),
        ("os_template", "/os_template", json!("debian; rm -rf /")),
        ("cores", "/cores", json!(0)),
        ("memory_mib", "/memory_mib", json!(8)),
        ("swap_mib", "/swap_mib", json!(5_000_000)),
        ("disk_gib", "/disk_gib", json!(0)),
        ("storage", "/storage", json!("local lvm")),
        ("bridge", "/bridge", json!("vmbr0$(id)")),
        ("tags", "/tags", json!(["bad tag"])),
        ("scripts.0.name", "/scripts/0/name", json!("../evil.sh")),
        ("scripts.1.name", "/scripts/1/name", json!("10-install.sh")),
        ("scripts.0.content", "/scripts/0/content", json!("   ")),
        ("files.0.name", "/files/0/name", json!("a/b")),
        (
            "files.0.target_dir",
            "/files/0/target_dir",
            json!("/etc/../root"),
        ),
        (
            "files.0.target_dir",
            "/files/0/target_dir",
            json!("etc/nginx"),
        ),
        (
            "packages.0.name",
            "/packages/0/name",
            json!("nginx; curl x|sh"),
        ),
        ("packages.1.name", "/packages/1/name", json!("Left Pad")),
        ("packages.1.version", "/packages/1/version", json!("1 && 2")),
    ];
    for (field, pointer, value) in cases {
        let mut t = template("web");
        *t.pointer_mut(pointer).unwrap() = value.clone();
        let (status, body) = save_template(&app, &client, Value::Null, t).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert!(
            body["fields"][field].is_string(),
            "{field} = {value} not reported: {body}"
        );
    }
    let (_, list) = app.call(&client, "/api/templates/list", json!({})).await;
    assert_eq!(list, json!([]));

    // A bucket that does not exist is the bucket field's error.
    let mut t = template("web");
    t["bucket_ids"] = json!([uuid::Uuid::new_v4()]);
    let (status, body) = save_template(&app, &client, Value::Null, t).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["bucket_ids"].is_string(), "{body}");
}

#[tokio::test]
async fn duplicate_names_are_errors_on_the_name_field() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let (_, first) = save_template(&app, &client, Value::Null, template("web")).await;
    let (status, body) = save_template(&app, &client, Value::Null, template("web")).await;
    assert_eq!(status, 422);
    assert_eq!(
        (status, &body["fields"]),
        (
            422,
            &json!({"name": "A template with this name already exists."})
        ),
        "{body}"
    );
    // Renaming another template onto it is refused too, and leaves both as they were.
    let (_, second) = save_template(&app, &client, Value::Null, template("db")).await;
    let (status, body) = save_template(&app, &client, second.clone(), template("web")).await;
    assert_eq!(status, 422);
    assert!(body["fields"]["name"].is_string(), "{body}");
    let (_, list) = app.call(&client, "/api/templates/list", json!({})).await;
    let names: Vec<(&Value, &Value)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (&t["id"], &t["name"]))
        .collect();
    assert_eq!(names, [(&second, &json!("db")), (&first, &json!("web"))]);

    save_bucket(&app, &client, Value::Null, bucket("tools")).await;
    let (status, body) = save_bucket(&app, &client, Value::Null, bucket("tools")).await;
    assert_eq!(status, 422);
    assert_eq!(
        (status, &body["fields"]),
        (
            422,
            &json!({"name": "A bucket with this name already exists."})
        ),
        "{body}"
    );
}

#[tokio::test]
async fn buckets_are_created_renamed_edited_and_deleted() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let (status, saved) = save_bucket(&app, &client, Value::Null, bucket("tools")).await;
    assert_eq!(status, 200, "{saved}");
    let id = saved["id"].clone();
    assert_eq!(saved["bucket"]["packages"][1]["version"], "2.32.3");

    let mut t = template("web");
    t["bucket_ids"] = json!([id]);
    let (_, template_id) = save_template(&app, &client, Value::Null, t).await;

    let renamed = json!({
        "name": "  basics ",
        "description": "",
        "packages": [{"name": "htop", "manager": "apt", "version": null}]
    });
    let (status, saved) = save_bucket(&app, &client, id.clone(), renamed).await;
    assert_eq!(status, 200, "{saved}");
    let (_, list) = app.call(&client, "/api/buckets/list", json!({})).await;
    assert_eq!(
        list,
        json!([{"id": id, "bucket": {"name": "basics", "description": "", "packages": [
            {"name": "htop", "manager": "apt", "version": null}
        ]}}])
    );
    // The template sees the bucket's new contents.
    let (_, detail) = app
        .call(&client, "/api/templates/get", json!({"id": template_id}))
        .await;
    assert_eq!(
        detail["buckets"][0]["bucket"]["packages"][0]["name"],
        "htop"
    );

    let bad = json!({"name": "", "description": "", "packages": [
        {"name": "ok", "manager": "pip", "version": null},
        {"name": "rm -rf", "manager": "apt", "version": null},
        {"name": "x", "manager": "npm", "version": "1 2"}
    ]});
    let (status, body) = save_bucket(&app, &client, id.clone(), bad).await;
    assert_eq!(status, 422);
    let fields: Vec<&String> = body["fields"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["name", "packages.1.name", "packages.2.version"]);

    let (status, _) = app
        .call(&client, "/api/buckets/delete", json!({"id": id}))
        .await;
    assert_eq!(status, 200);
    let (_, list) = app.call(&client, "/api/buckets/list", json!({})).await;
    assert_eq!(list, json!([]));
    let (_, detail) = app
        .call(&client, "/api/templates/get", json!({"id": template_id}))
        .await;
    assert_eq!(
        (&detail["buckets"], &detail["template"]["bucket_ids"]),
        (&json!([]), &json!([]))
    );
    let (_, body) = app
        .call(&client, "/api/buckets/delete", json!({"id": id}))
        .await;
    assert_eq!(body["error"], "not_found", "{body}");
    let (_, body) = save_bucket(&app, &client, id, bucket("again")).await;
    assert_eq!(body["error"], "not_found", "{body}");
}

#[tokio::test]
async fn without_a_session_every_template_and_bucket_function_is_refused() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let (_, id) = save_template(&app, &client, Value::Null, template("web")).await;
    let (_, saved) = save_bucket(&app, &client, Value::Null, bucket("tools")).await;

    let stranger = app.client();
    let calls = [
        ("/api/templates/list", json!({})),
        ("/api/templates/get", json!({"id": id})),
        (
            "/api/templates/save",
            json!({"id": null, "template": template("x")}),
        ),
        ("/api/templates/delete", json!({"id": id})),
        ("/api/templates/discover", json!({})),
        ("/api/buckets/list", json!({})),
        (
            "/api/buckets/save",
            json!({"id": null, "bucket": bucket("x")}),
        ),
        ("/api/buckets/delete", json!({"id": saved["id"]})),
    ];
    for (path, body) in calls {
        let (status, answer) = app.call(&stranger, path, body).await;
        assert_eq!(status, 401, "{path}: {answer}");
        assert!(!answer.to_string().contains("web"), "{path}: {answer}");
    }
    let (_, list) = app.call(&client, "/api/templates/list", json!({})).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = app.call(&client, "/api/buckets/list", json!({})).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

/// The test app's server again, over the same database, reading templates from `dir`.
async fn with_templates_dir(app: &TestApp, dir: &std::path::Path) -> TestApp {
    let mut ctx = app.ctx.clone();
    ctx.templates_dir = dir.to_owned();
    let url = server::spawn_on_loopback(ctx.clone(), &testkit::site_root())
        .await
        .unwrap();
    TestApp {
        url,
        ctx,
        database_url: app.database_url.clone(),
    }
}

#[tokio::test]
async fn discover_syncs_the_folder_reports_problems_and_keeps_bucket_links() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    write(
        "good/template.conf",
        "TEMPLATE_APP=good\nTEMPLATE_DESCRIPTION=\"first\"\nTEMPLATE_TAGS=\"base;demo\"\n",
    );
    write(
        "good/container-configs/scripts/10-hello.sh",
        "# says hello\necho hello\n",
    );
    write(
        "good/container-configs/packages/base.apt",
        "curl\n# a comment\nhtop\n",
    );
    write(
        "broken/template.conf",
        "TEMPLATE_APP=broken\nTEMPLATE_CPU=1\nTEMPLATE_RAM=lots\n",
    );

    let app = with_templates_dir(&TestApp::start().await, dir.path()).await;
    let (client, _) = app.logged_in().await;
    let (status, report) = app
        .call(&client, "/api/templates/discover", json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["added"], json!(["good"]));
    let issues = report["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{report}");
    assert!(
        issues[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("broken/template.conf"),
        "{report}"
    );
    assert_eq!(issues[0]["line"], 3);

    let (_, list) = app.call(&client, "/api/templates/list", json!({})).await;
    let good = list[0].clone();
    assert_eq!(
        (
            &good["name"],
            &good["source"],
            &good["script_count"],
            &good["package_count"]
        ),
        (&json!("good"), &json!("filesystem"), &json!(1), &json!(2))
    );

    // A user includes a bucket in the discovered template; editing keeps it a folder template.
    let (_, saved) = save_bucket(&app, &client, Value::Null, bucket("tools")).await;
    let (_, detail) = app
        .call(&client, "/api/templates/get", json!({"id": good["id"]}))
        .await;
    let mut edited = detail["template"].clone();
    edited["bucket_ids"] = json!([saved["id"]]);
    edited["source"] = json!("custom");
    let (status, _) = save_template(&app, &client, good["id"].clone(), edited).await;
    assert_eq!(status, 200);

    // Discovering again changes nothing and keeps the bucket.
    let (_, report) = app
        .call(&client, "/api/templates/discover", json!({}))
        .await;
    assert_eq!(
        (&report["added"], &report["updated"], &report["unchanged"]),
        (&json!([]), &json!([]), &json!(["good"])),
        "{report}"
    );
    // A changed folder updates the template in place, still with the bucket.
    write(
        "good/template.conf",
        "TEMPLATE_APP=good\nTEMPLATE_DESCRIPTION=\"second\"\nTEMPLATE_TAGS=\"base;demo\"\n",
    );
    let (_, report) = app
        .call(&client, "/api/templates/discover", json!({}))
        .await;
    assert_eq!(report["updated"], json!(["good"]), "{report}");
    let (_, detail) = app
        .call(&client, "/api/templates/get", json!({"id": good["id"]}))
        .await;
    assert_eq!(detail["template"]["description"], "second");
    assert_eq!(detail["template"]["source"], "filesystem");
    assert_eq!(detail["buckets"][0]["bucket"]["name"], "tools");
    let (_, list) = app.call(&client, "/api/templates/list", json!({})).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // A folder that cannot be read is a clear error, not a crash.
    let elsewhere = with_templates_dir(&app, &dir.path().join("nowhere")).await;
    let (client, _) = elsewhere.logged_in().await;
    let (status, body) = elsewhere
        .call(&client, "/api/templates/discover", json!({}))
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        testkit::server::message_if(&body, "unavailable")
            .as_str()
            .unwrap()
            .contains("nowhere"),
        "{body}"
    );
}
