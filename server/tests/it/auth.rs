//! Login, logout, sessions, throttling and the guards every request passes, over real HTTP.

use serde_json::json;
use testkit::server::TestApp;

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
    assert_eq!(wrong_password["error"], "login_failed", "{wrong_password}");
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
    assert!(body["fields"]["username"].is_string(), "{body}");
    assert!(body["fields"]["password"].is_string(), "{body}");
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
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
}

#[tokio::test]
async fn failures_throttle_the_account_at_that_address_only() {
    let app = TestApp::start().await;
    let name = app.user("correct horse battery").await;
    let attacker = app.client();
    for _ in 0..backend::accounts::MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS {
        let (_, body) = app
            .call(
                &attacker,
                "/api/login",
                json!({"username": name, "password": "wrong pass"}),
            )
            .await;
        assert_eq!(body["error"], "login_failed", "{body}");
    }
    let (_, body) = app
        .call(
            &attacker,
            "/api/login",
            json!({"username": name, "password": "correct horse battery"}),
        )
        .await;
    let retry = body["retry_after_secs"]
        .as_i64()
        .unwrap_or_else(|| panic!("not throttled: {body}"));
    assert!(retry > 0 && retry <= backend::accounts::THROTTLE_WINDOW_SECS);
    let (status, _) = app.call(&attacker, "/api/whoami", json!({})).await;
    assert_eq!(status, 401);

    let owner = app.client();
    let (status, body) = app
        .call(
            &owner,
            "/api/login",
            json!({"username": name, "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(
        status, 200,
        "the owner at another address was locked out: {body}"
    );
}

#[tokio::test]
async fn a_burst_of_60_wrong_passwords_checks_at_most_5_and_the_owner_still_logs_in() {
    let app = TestApp::start().await;
    let name = app.user("correct horse battery").await;
    let attacker = app.client();
    let checks_before = backend::accounts::password_checks();
    let attempts = (0..60).map(|i| {
        let (app, attacker, name) = (&app, attacker.clone(), name.clone());
        async move {
            app.call(
                &attacker,
                "/api/login",
                json!({"username": name, "password": format!("guess {i}")}),
            )
            .await
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let checks = backend::accounts::password_checks() - checks_before;
    assert!(checks <= 5, "{checks} passwords were checked");
    let failed = answers
        .iter()
        .filter(|(status, b)| *status == 401 && b["error"] == "login_failed")
        .count();
    let throttled = answers
        .iter()
        .filter(|(status, b)| *status == 429 && b["error"] == "throttled")
        .count();
    assert_eq!(failed as u64, checks, "{answers:?}");
    assert_eq!(failed + throttled, 60, "{answers:?}");

    let owner = app.client();
    let (status, body) = app
        .call(
            &owner,
            "/api/login",
            json!({"username": name, "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(status, 200, "the owner was locked out: {body}");
}

#[tokio::test]
async fn successful_logins_do_not_use_up_the_address_limit() {
    let app = TestApp::start().await;
    let name = app.user("correct horse battery").await;
    let address = testkit::unique_client_address();
    for _ in 0..backend::accounts::MAX_FAILURES_PER_ADDRESS + 2 {
        let (status, body) = app
            .call(
                &app.client_from(&address),
                "/api/login",
                json!({"username": name, "password": "correct horse battery"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
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
    // The module the page loads, as index.html names it (`/app-HASH/frontend_bg.wasm` in a
    // build split per page, `/frontend-HASH_bg.wasm` in a plain Trunk build).
    let index = std::fs::read_to_string(testkit::site_root().join("index.html")).unwrap();
    let asset = index
        .split('"')
        .find(|part| part.starts_with('/') && part.ends_with(".wasm"))
        .expect("index.html names a .wasm module")
        .to_owned();
    let response = app
        .client()
        .get(format!("{}{asset}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/wasm");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let anonymous = app.client();
    let index = std::fs::read_to_string(testkit::site_root().join("index.html")).unwrap();
    let requests = [
        anonymous.get(format!("{}/login", app.url)),
        client.get(format!("{}/settings", app.url)),
        anonymous.get(format!("{}/settings", app.url)),
        anonymous.post(format!("{}/api/whoami", app.url)),
        anonymous.get(format!("{}/health", app.url)),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        let url = response.url().to_string();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "'wasm-unsafe-eval'",
        ] {
            assert!(
                csp.contains(directive),
                "{url}: {directive} missing in {csp}"
            );
        }
        assert!(
            !csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"),
            "{csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(headers["x-frame-options"], "DENY", "{url}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{url}");
        if url.ends_with("/login") && index.contains("<script type=\"module\">") {
            assert!(
                csp.contains("'sha256-"),
                "the index's inline script is not allowed: {csp}"
            );
        }
    }
}

#[tokio::test]
async fn a_request_for_another_host_is_refused_before_any_handler() {
    let app = TestApp::start().await;
    let name = app.user("correct horse battery").await;
    let client = app.client();
    for (host, origin) in [
        ("evil.test", "http://evil.test"),
        ("evil.test", ""),
        ("127.0.0.1:1", ""),
    ] {
        let mut request = client
            .post(format!("{}/api/login", app.url))
            .header("host", host)
            .header("content-type", "application/json")
            .body(json!({"username": name, "password": "correct horse battery"}).to_string());
        if !origin.is_empty() {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400, "Host: {host}");
        assert!(
            response.headers().get("set-cookie").is_none(),
            "Host: {host}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body.to_string().contains("host"), "{body}");
        let page = client
            .get(format!("{}/login", app.url))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 400, "page for Host: {host}");
    }
    let localhost = app.url.replace("127.0.0.1", "localhost");
    let page = client
        .get(format!("{localhost}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        200,
        "localhost on the listening port is this server"
    );
}

#[tokio::test]
async fn a_database_outage_answers_503_and_keeps_the_session() {
    let (app, database) = TestApp::start_behind_db_gate().await;
    let (client, _) = app.logged_in().await;
    database.shut();

    let response = client
        .post(format!("{}/api/whoami", app.url))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body = response.text().await.unwrap();
    assert!(body.contains("database"), "{body}");
    assert!(body.contains("session is kept"), "{body}");
    let page = client
        .get(format!("{}/containers", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        200,
        "the page is served, not a redirect to the login"
    );

    database.open().await;
    testkit::server::eventually("the session works again", || async {
        app.call(&client, "/api/whoami", json!({})).await.0 == 200
    })
    .await;
}
