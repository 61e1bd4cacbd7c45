//! The node settings server functions against real PostgreSQL.

use serde_json::{Value, json};
use testkit::server::TestApp;

fn form(name: &str) -> Value {
    json!({
        "name": name,
        "host": "192.0.2.10",
        "port": "8006",
        "token_id": "root@pam!infrahaus",
        "token_secret": "7d1c2b6a-secret-value",
        "tls_mode": "fingerprint",
        "fingerprint": "ab".repeat(32),
    })
}

#[tokio::test]
async fn a_node_is_saved_with_its_secret_sealed_and_listed_without_it() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let (status, saved) = app
        .call(
            &client,
            "/api/nodes/save",
            json!({"id": null, "form": form("pve")}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let pinned = ["AB"; 32].join(":");
    assert_eq!(
        saved["tls"],
        json!({"mode": "fingerprint", "fingerprint": pinned})
    );

    let (_, list) = app.call(&client, "/api/nodes/list", json!({})).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(
        !list.to_string().contains("7d1c2b6a"),
        "secret leaked in the list: {list}"
    );

    let mut conn = app.ctx.db.get().await.unwrap();
    let row = backend::models::NodeRow::find_by_name(&mut conn, "pve")
        .await
        .unwrap()
        .unwrap();
    assert!(!String::from_utf8_lossy(&row.token_secret_enc).contains("7d1c2b6a"));
    let opened = app
        .ctx
        .secrets
        .open_str(
            backend::crypto::Purpose::NodeTokenSecret,
            &row.token_secret_enc,
        )
        .unwrap();
    assert_eq!(opened, "7d1c2b6a-secret-value");
}

#[tokio::test]
async fn bad_fields_are_named_and_nothing_is_written() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let mut bad = form("pve");
    bad["host"] = json!("https://pve:8006");
    bad["token_id"] = json!("root@pam");
    bad["fingerprint"] = json!("not-a-fingerprint");
    let (status, body) = app
        .call(&client, "/api/nodes/save", json!({"id": null, "form": bad}))
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&String> = body["fields"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["fingerprint", "host", "token_id"]);
    let (_, list) = app.call(&client, "/api/nodes/list", json!({})).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn a_duplicate_name_is_a_field_error() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    app.call(
        &client,
        "/api/nodes/save",
        json!({"id": null, "form": form("pve")}),
    )
    .await;
    let (_, body) = app
        .call(
            &client,
            "/api/nodes/save",
            json!({"id": null, "form": form("pve")}),
        )
        .await;
    assert!(
        body["fields"]["name"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{body}"
    );
}

#[tokio::test]
async fn editing_without_a_secret_keeps_it_and_delete_removes_the_node() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let (_, saved) = app
        .call(
            &client,
            "/api/nodes/save",
            json!({"id": null, "form": form("pve")}),
        )
        .await;
    let id = saved["id"].clone();
    let mut edit = form("pve-main");
    edit["token_secret"] = json!("");
    edit["ssh_port"] = json!("2222");
    let (status, edited) = app
        .call(&client, "/api/nodes/save", json!({"id": id, "form": edit}))
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (edited["name"].as_str(), edited["ssh_port"].as_u64()),
        (Some("pve-main"), Some(2222))
    );

    let mut conn = app.ctx.db.get().await.unwrap();
    let row = backend::models::NodeRow::find_by_name(&mut conn, "pve-main")
        .await
        .unwrap()
        .unwrap();
    let opened = app
        .ctx
        .secrets
        .open_str(
            backend::crypto::Purpose::NodeTokenSecret,
            &row.token_secret_enc,
        )
        .unwrap();
    assert_eq!(opened, "7d1c2b6a-secret-value");

    let (status, _) = app
        .call(&client, "/api/nodes/delete", json!({"id": id}))
        .await;
    assert_eq!(status, 200);
    let (_, body) = app
        .call(&client, "/api/nodes/delete", json!({"id": id}))
        .await;
    assert_eq!(body["error"], "not_found", "{body}");
}

#[tokio::test]
async fn test_connection_reports_the_exact_reason_it_failed() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut target = form("pve");
    target["host"] = json!("127.0.0.1");
    target["port"] = json!(port.to_string());
    let (_, body) = app
        .call(
            &client,
            "/api/nodes/test",
            json!({"id": null, "form": target}),
        )
        .await;
    let message = testkit::server::message_if(&body, "unavailable")
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(message.to_lowercase().contains("refused"), "{message}");

    let mut bad = form("pve");
    bad["host"] = json!("");
    let (_, body) = app
        .call(&client, "/api/nodes/test", json!({"id": null, "form": bad}))
        .await;
    assert!(body["fields"]["host"].is_string(), "{body}");
}

/// A simulated node with one token.
async fn simulator() -> pvesim::SimHandle {
    let config = pvesim::SimConfig::builder()
        .token("root@pam!infrahaus", "5b0c2a0e-7c39-4e43-9d67-1b3c6f1f0a11")
        .build();
    pvesim::Simulator::start(config)
        .await
        .expect("the simulator starts")
}

fn node_form_for(sim: &pvesim::SimHandle, secret: &str, fingerprint: &str) -> Value {
    json!({
        "name": "sim",
        "host": sim.api_addr.ip().to_string(),
        "port": sim.api_addr.port().to_string(),
        "token_id": "root@pam!infrahaus",
        "token_secret": secret,
        "tls_mode": "fingerprint",
        "fingerprint": fingerprint,
    })
}

#[tokio::test]
async fn test_connection_against_a_node_shows_its_version_and_findings() {
    let sim = simulator().await;
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let good = node_form_for(
        &sim,
        "5b0c2a0e-7c39-4e43-9d67-1b3c6f1f0a11",
        &sim.fingerprint,
    );
    let (status, report) = app
        .call(
            &client,
            "/api/nodes/test",
            json!({"id": null, "form": good}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert!(!report["version"].as_str().unwrap().is_empty());
    assert_eq!(report["node"], json!("pve"));
    assert!(
        report["rootdir_storages"]
            .as_array()
            .unwrap()
            .contains(&json!("local-lvm"))
    );
    assert!(
        report["bridges"]
            .as_array()
            .unwrap()
            .contains(&json!("vmbr0"))
    );
    assert_eq!(report["problems"], json!([]), "{report}");

    // The stored secret is used when an edit leaves the secret empty.
    let (_, saved) = app
        .call(
            &client,
            "/api/nodes/save",
            json!({"id": null, "form": good}),
        )
        .await;
    let mut keep = node_form_for(&sim, "", &sim.fingerprint);
    keep["token_secret"] = json!("");
    let (status, _) = app
        .call(
            &client,
            "/api/nodes/test",
            json!({"id": saved["id"], "form": keep}),
        )
        .await;
    assert_eq!(status, 200);

    let wrong_secret = node_form_for(
        &sim,
        "00000000-0000-0000-0000-000000000000",
        &sim.fingerprint,
    );
    let (_, body) = app
        .call(
            &client,
            "/api/nodes/test",
            json!({"id": null, "form": wrong_secret}),
        )
        .await;
    let message = testkit::server::message_if(&body, "unavailable")
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_lowercase();
    assert!(message.contains("auth"), "{message}");

    let wrong_pin = node_form_for(
        &sim,
        "5b0c2a0e-7c39-4e43-9d67-1b3c6f1f0a11",
        &"11".repeat(32),
    );
    let (_, body) = app
        .call(
            &client,
            "/api/nodes/test",
            json!({"id": null, "form": wrong_pin}),
        )
        .await;
    let message = testkit::server::message_if(&body, "unavailable")
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        message.contains(&sim.fingerprint),
        "the message names the certificate seen: {message}"
    );
    sim.shutdown().await;
}

/// The attack from issue 14: a signed-in account points a saved node's id at a host of its own,
/// with a fingerprint of its choosing and no secret, hoping the server sends the stored one.
#[tokio::test]
async fn a_stored_secret_is_never_sent_to_another_address() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let (_, saved) = app
        .call(
            &client,
            "/api/nodes/save",
            json!({"id": null, "form": form("pve")}),
        )
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });

    let changes: [(&str, Value, &str); 4] = [
        ("host", json!("127.0.0.1"), "address changed"),
        ("port", json!(port.to_string()), "address changed"),
        (
            "fingerprint",
            json!("cd".repeat(32)),
            "certificate check changed",
        ),
        ("token_id", json!("attacker@pve!tok"), "token ID changed"),
    ];
    for (field, value, reason) in changes {
        let mut hostile = form("pve");
        hostile["token_secret"] = json!("");
        hostile["host"] = json!("127.0.0.1");
        hostile["port"] = json!(port.to_string());
        if field == "fingerprint" || field == "token_id" {
            hostile = form("pve");
            hostile["token_secret"] = json!("");
        }
        hostile[field] = value;
        for path in ["/api/nodes/test", "/api/nodes/save"] {
            let (status, body) = app
                .call(&client, path, json!({"id": saved["id"], "form": hostile}))
                .await;
            assert!(
                (400..500).contains(&status),
                "{path} {field}: {status} {body}"
            );
            let message = body["fields"]["token_secret"]
                .as_str()
                .unwrap_or_else(|| panic!("{path} {field}: {body}"));
            assert!(
                message.contains("Enter the token secret again"),
                "{message}"
            );
            assert!(message.contains(reason), "{field}: {message}");
            assert!(!body.to_string().contains("7d1c2b6a"), "{body}");
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the server connected to the caller's host"
    );
    let mut conn = app.ctx.db.get().await.unwrap();
    let row = backend::models::NodeRow::find_by_name(&mut conn, "pve")
        .await
        .unwrap()
        .expect("the node is unchanged");
    assert_eq!((row.host.as_str(), row.port), ("192.0.2.10", 8006));
}
