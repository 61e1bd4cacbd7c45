//! Login, logout, sessions, throttling and the guards every request passes, over real HTTP.

mod common;

use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn login_sets_an_httponly_cookie_and_whoami_answers() {
    let app = TestApp::start().await;
    let name = app.user("correct horse battery").await;
    let client = app.client();
    let response = client
        .post(format!("{}/api/login", app.url))
        .header("content-type", "application/json")
        .body(json!({"username": name, "password": "correct horse battery"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("infrahaus_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(
        !cookie.contains("Secure"),
        "plain-HTTP deployment must not set Secure: {cookie}"
    );
    let (status, body) = app.call(&client, "/api/whoami", json!({})).await;
    assert_eq!(
        (status, body["username"].as_str()),
        (200, Some(name.as_str()))
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_message() {
    let app = TestApp::start().await;
    let name = app.user("correct horse battery").await;
    let client = app.client();
    let (s1, wrong_password) = app
        .call(
            &client,
            "/api/login",
            json!({"username": name, "password": "nope nope"}),
        )
        .await;
    let (s2, unknown_user) = app
        .call(
            &client,
            "/api/login",
            json!({"username": testkit::unique("ghost"), "password": "nope nope"}),
        )
        .await;
    assert_eq!(wrong_password, json!("LoginFailed"));
    assert_eq!((s1, &wrong_password), (s2, &unknown_user));
    let (status, _) = app.call(&client, "/api/whoami", json!({})).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn empty_fields_get_field_errors() {
    let app = TestApp::start().await;
    let (_, body) = app
        .call(
            &app.client(),
            "/api/login",
            json!({"username": " ", "password": ""}),
        )
        .await;
    assert!(body["Invalid"]["username"].is_string(), "{body}");
    assert!(body["Invalid"]["password"].is_string(), "{body}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let (status, _) = app.call(&client, "/api/logout", json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = app.call(&client, "/api/whoami", json!({})).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let app = TestApp::start_with_session(chrono::Duration::seconds(1)).await;
    let (client, _) = app.logged_in().await;
    let (status, _) = app.call(&client, "/api/whoami", json!({})).await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = app.call(&client, "/api/whoami", json!({})).await;
    assert_eq!((status, body), (401, json!("Unauthorized")));
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_even_with_the_right_password() {
    let app = TestApp::start().await;
    let name = app.user("correct horse battery").await;
    let client = app.client();
    for _ in 0..backend::accounts::MAX_FAILURES_PER_ACCOUNT {
        let (_, body) = app
            .call(
                &client,
                "/api/login",
                json!({"username": name, "password": "wrong pass"}),
            )
            .await;
        assert_eq!(body, json!("LoginFailed"));
    }
    let (_, body) = app
        .call(
            &client,
            "/api/login",
            json!({"username": name, "password": "correct horse battery"}),
        )
        .await;
    let retry = body["Throttled"]["retry_after_secs"]
        .as_i64()
        .unwrap_or_else(|| panic!("not throttled: {body}"));
    assert!(retry > 0 && retry <= backend::accounts::THROTTLE_WINDOW_SECS);
    let (status, _) = app.call(&client, "/api/whoami", json!({})).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn every_server_function_but_login_refuses_a_caller_without_a_session() {
    let app = TestApp::start().await;
    let client = app.client();
    let paths: Vec<(&str, http::Method)> = server_fn::axum::server_fn_paths().collect();
    assert!(
        paths.len() >= 7,
        "server functions not registered: {paths:?}"
    );
    for (path, method) in paths {
        if server::PUBLIC_API_PATHS.contains(&path) {
            continue;
        }
        let request = client.request(method.clone(), format!("{}{path}", app.url));
        let response = request
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            401,
            "{method} {path} answered without a session"
        );
    }
}

#[tokio::test]
async fn a_cross_origin_post_is_refused_even_with_a_session() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    for (header, value) in [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let response = client
            .post(format!("{}/api/logout", app.url))
            .header(header, value)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{header}: {value}");
    }
    let (status, _) = app.call(&client, "/api/whoami", json!({})).await;
    assert_eq!(
        status, 200,
        "the refused logout must not have ended the session"
    );
}

#[tokio::test]
async fn pages_redirect_to_login_without_a_session() {
    let app = TestApp::start().await;
    let anonymous = app.client();
    let response = anonymous
        .get(format!("{}/settings?tab=nodes", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/login?next=%2Fsettings%3Ftab%3Dnodes"
    );
    let response = anonymous.get(format!("{}/", app.url)).send().await.unwrap();
    assert_eq!(response.headers()["location"], "/login");
    let login_page = anonymous
        .get(format!("{}/login", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(login_page.status(), 200);
    assert!(login_page.text().await.unwrap().contains("<html"));

    let (client, _) = app.logged_in().await;
    let page = client
        .get(format!("{}/settings", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-cache");
}

#[tokio::test]
async fn static_assets_are_served_without_a_session() {
    let app = TestApp::start().await;
    let asset = std::fs::read_dir(testkit::site_root())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|name| name.ends_with(".wasm"))
        .expect("a built .wasm file");
    let response = app
        .client()
        .get(format!("{}/{asset}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/wasm");
}
