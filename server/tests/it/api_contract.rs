//! The API's error contract over real HTTP: every refusal is a 4xx (or 503) with the error
//! envelope, malformed bodies are 400 in plain words, and each status has its cause.

use serde_json::{Value, json};
use testkit::server::TestApp;

/// Words that would show the server's internals in an answer.
const INTERNALS: &[&str] = &[
    "struct ",
    "CreateContainerForm",
    "NodeForm",
    "Template",
    "u32",
    "i64",
    "::",
    "serde",
    "panicked",
];

async fn post_raw(app: &TestApp, client: &reqwest::Client, path: &str, body: &str) -> (u16, Value) {
    let response = client
        .post(format!("{}{path}", app.url))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path} {body:?}: not JSON: {text}"));
    (status, json)
}

#[tokio::test]
async fn malformed_bodies_are_400_in_plain_words() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let node = json!({"name": "pve", "host": "192.0.2.1", "port": "8006", "token_id": "root@pam!x",
        "token_secret": "s", "tls_mode": "system_ca", "fingerprint": ""});
    let bodies: Vec<(&str, String)> = vec![
        ("/api/containers/create", String::new()),
        ("/api/containers/create", "not json".into()),
        ("/api/containers/create", "null".into()),
        ("/api/containers/create", "[]".into()),
        ("/api/containers/create", "{\"form\": ".into()),
        ("/api/containers/create", json!({"form": null}).to_string()),
        (
            "/api/containers/create",
            json!({"form": {"spec": {"vmid": "100abc"}}}).to_string(),
        ),
        ("/api/containers/create", json!({"form": 42}).to_string()),
        (
            "/api/templates/save",
            json!({"id": null, "template": "web"}).to_string(),
        ),
        (
            "/api/templates/save",
            json!({"id": "not-a-uuid", "template": {}}).to_string(),
        ),
        (
            "/api/nodes/save",
            json!({"id": null, "form": {"port": 8006}}).to_string(),
        ),
        (
            "/api/nodes/test",
            json!({"id": 7, "form": node}).to_string(),
        ),
        (
            "/api/resources/vmid",
            json!({"node_id": uuid::Uuid::new_v4(), "vmid": -5}).to_string(),
        ),
        (
            "/api/resources/vmid",
            json!({"node_id": uuid::Uuid::new_v4(), "vmid": "100abc"}).to_string(),
        ),
        (
            "/api/containers/get",
            json!({"id": "../../etc/passwd"}).to_string(),
        ),
        ("/api/login", "\u{0}".into()),
    ];
    for (path, body) in &bodies {
        let (status, answer) = post_raw(&app, &client, path, body).await;
        let shown = answer.to_string();
        assert!(
            status == 400 || (status == 422 && answer["error"] == "invalid"),
            "{path} {body:?}: {status} {shown}"
        );
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{shown}"
        );
        for word in INTERNALS {
            assert!(
                !shown.contains(word),
                "{path} {body:?} shows {word:?}: {shown}"
            );
        }
    }
    // A missing argument names the field.
    let (status, answer) = post_raw(&app, &client, "/api/containers/get", "{}").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (422, Some("invalid")),
        "{answer}"
    );
    assert_eq!(answer["fields"]["id"], "Required.", "{answer}");

    // An oversized body is refused without being read whole.
    let huge = format!("{{\"form\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let (status, _) = post_raw_status(&app, &client, "/api/containers/create", huge).await;
    assert!(
        (400..500).contains(&status),
        "oversized body answered {status}"
    );

    // An unknown call is 404.
    let (status, answer) = post_raw(&app, &client, "/api/no/such/call", "{}").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (404, Some("not_found")),
        "{answer}"
    );
}

async fn post_raw_status(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    body: String,
) -> (u16, String) {
    let response = client
        .post(format!("{}{path}", app.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn each_status_has_its_cause() {
    let (app, database) = TestApp::start_behind_db_gate().await;
    let (client, name) = app.logged_in().await;

    // 401: no session.
    let (status, answer) = app
        .call(&app.client(), "/api/containers/list", json!({}))
        .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("unauthorized"))
    );

    // 403: another site's page.
    let response = client
        .post(format!("{}/api/containers/list", app.url))
        .header("origin", "http://evil.example")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"], "forbidden");

    // 404: no such container.
    let (status, answer) = app
        .call(
            &client,
            "/api/containers/get",
            json!({"id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!((status, answer["error"].as_str()), (404, Some("not_found")));

    // 409: retrying a container that did not fail.
    let ready = app.container(domain::container::Lifecycle::Ready).await;
    let (status, answer) = app
        .call(&client, "/api/containers/retry", json!({"id": ready}))
        .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (409, Some("conflict")),
        "{answer}"
    );

    // 422: a field is wrong, and named.
    let (status, answer) = app
        .call(
            &client,
            "/api/login",
            json!({"username": "", "password": ""}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(answer["fields"]["username"].is_string(), "{answer}");

    // 429: too many failed logins, with Retry-After.
    let attacker = app.client();
    for _ in 0..backend::accounts::MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS {
        app.call(
            &attacker,
            "/api/login",
            json!({"username": name, "password": "wrong one"}),
        )
        .await;
    }
    let response = attacker
        .post(format!("{}/api/login", app.url))
        .header("content-type", "application/json")
        .body(json!({"username": name, "password": "wrong one"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"], "throttled");
    assert_eq!(answer["retry_after_secs"].as_i64(), Some(retry_after));

    // 503: the database is away.
    database.shut();
    let (status, answer) = app.call(&client, "/api/containers/list", json!({})).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("unavailable")),
        "{answer}"
    );
    database.open().await;
}
