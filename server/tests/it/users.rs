//! Accounts and roles over real HTTP: the users page's calls (admins only), changing one's own
//! password, disabled accounts, operators refused for nodes, and what each refusal looks like
//! (401 without a session, 403 for an operator, 422 naming the field, 409 for a taken name).

use domain::user::Role;
use serde_json::{Value, json};
use testkit::server::{TestApp, message_if};

const PASSWORD: &str = "correct horse battery";

/// The users page's calls with a harmless body each.
fn admin_calls(someone: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("/api/users/list", json!({})),
        (
            "/api/users/create",
            json!({"form": {"username": "x", "password": "", "confirm": "", "role": null}}),
        ),
        (
            "/api/users/set_disabled",
            json!({"id": someone, "disabled": true}),
        ),
        (
            "/api/users/set_role",
            json!({"id": someone, "role": "admin"}),
        ),
        (
            "/api/users/reset_password",
            json!({"id": someone, "form": {"password": "a new horse", "confirm": "a new horse"}}),
        ),
        ("/api/activity/recent", json!({})),
    ]
}

/// The id of the account `username`, as the calls take it.
async fn user_id(app: &TestApp, username: &str) -> String {
    crate::audit::id_of(app, username).await.to_string()
}

async fn login(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    app.call(
        &app.client(),
        "/api/login",
        json!({"username": username, "password": password}),
    )
    .await
}

#[tokio::test]
async fn every_account_call_refuses_a_caller_without_a_session() {
    let app = TestApp::start().await;
    let operator = app.user_with_role(PASSWORD, Role::Operator).await;
    let id = user_id(&app, &operator).await;
    let anonymous = app.client();
    let mut calls = admin_calls(&id);
    calls.push((
        "/api/account/change_password",
        json!({"form": {"current_password": PASSWORD, "new_password": "a new horse", "confirm": "a new horse"}}),
    ));
    calls.push((
        "/api/containers/activity",
        json!({"id": uuid::Uuid::new_v4()}),
    ));
    for (path, body) in calls {
        let (status, answer) = app.call(&anonymous, path, body).await;
        assert_eq!(status, 401, "{path}: {answer}");
        assert_eq!(answer["error"], "unauthorized", "{path}: {answer}");
    }
    // Nothing changed: the operator still logs in with the old password, still an operator.
    let (status, me) = login(&app, &operator, PASSWORD).await;
    assert_eq!((status, me["role"].as_str()), (200, Some("operator")));
}

#[tokio::test]
async fn operators_are_refused_users_node_changes_and_every_containers_activity() {
    let app = TestApp::start().await;
    let admin = app.user(PASSWORD).await;
    let operator = app.user_with_role(PASSWORD, Role::Operator).await;
    let client = app.log_in_client(&operator, PASSWORD).await;
    let (_, me) = app.call(&client, "/api/whoami", json!({})).await;
    assert_eq!(me, json!({"username": operator, "role": "operator"}));

    let admin_id = user_id(&app, &admin).await;
    for (path, body) in admin_calls(&admin_id) {
        let (status, answer) = app.call(&client, path, body).await;
        assert_eq!(status, 403, "{path}: {answer}");
        let message = message_if(&answer, "forbidden");
        assert!(
            message
                .as_str()
                .is_some_and(|m| m.starts_with("Only admins can")),
            "{path}: {answer}"
        );
    }
    // The admin was neither disabled, demoted nor reset.
    let (status, me) = login(&app, &admin, PASSWORD).await;
    assert_eq!((status, me["role"].as_str()), (200, Some("admin")));

    let node = json!({"name": "pve", "host": "192.0.2.1", "port": "8006", "ssh_port": "22",
        "token_id": "root@pam!x", "token_secret": "s", "tls_mode": "system_ca", "fingerprint": ""});
    for (path, body) in [
        ("/api/nodes/save", json!({"id": null, "form": node})),
        ("/api/nodes/test", json!({"id": null, "form": node})),
        ("/api/nodes/delete", json!({"id": uuid::Uuid::new_v4()})),
    ] {
        let (status, answer) = app.call(&client, path, body).await;
        assert_eq!(status, 403, "{path}: {answer}");
        assert_eq!(
            message_if(&answer, "forbidden"),
            "Only admins can add, change, test or delete Proxmox nodes.",
            "{path}"
        );
    }
    // Operators still list nodes: the wizard picks one.
    let (status, nodes) = app.call(&client, "/api/nodes/list", json!({})).await;
    assert_eq!((status, nodes), (200, json!([])));
}

#[tokio::test]
async fn an_admin_adds_a_user_who_then_logs_in_and_bad_input_names_its_field() {
    let app = TestApp::start().await;
    let (admin, _) = app.logged_in().await;
    let create = |form: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            app.call(admin, "/api/users/create", json!({"form": form}))
                .await
        }
    };
    let good = json!({"username": "olivia", "password": "long enough", "confirm": "long enough",
        "role": "operator"});
    let mut cases = Vec::new();
    for (field, value) in [
        ("username", json!("")),
        ("username", json!("olivia smith")),
        ("username", json!("a".repeat(65))),
        ("username", json!("rm;-rf")),
    ] {
        let mut form = good.clone();
        form[field] = value;
        cases.push((form, "username"));
    }
    let mut short = good.clone();
    short["password"] = json!("short");
    short["confirm"] = json!("short");
    cases.push((short, "password"));
    let mut differ = good.clone();
    differ["confirm"] = json!("long enougH");
    cases.push((differ, "confirm"));
    let mut no_role = good.clone();
    no_role["role"] = Value::Null;
    cases.push((no_role, "role"));
    for (form, field) in cases {
        let (status, answer) = create(form.clone()).await;
        assert_eq!(status, 422, "{form}: {answer}");
        assert_eq!(answer["error"], "invalid", "{answer}");
        assert!(answer["fields"][field].is_string(), "{form}: {answer}");
    }
    let (status, answer) = create(json!({"username": "x", "password": "long enough",
        "confirm": "long enough", "role": "superuser"}))
    .await;
    assert_eq!(status, 400, "an unknown role: {answer}");

    let (status, created) = create(good.clone()).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["username"], "olivia");
    assert_eq!(created["role"], "operator");
    assert_eq!(created["disabled"], false);
    let (status, answer) = create(good.clone()).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        message_if(&answer, "conflict"),
        "A user named olivia exists already."
    );

    let (status, me) = login(&app, "olivia", "long enough").await;
    assert_eq!((status, me["role"].as_str()), (200, Some("operator")));
    let (_, list) = app.call(&admin, "/api/users/list", json!({})).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"olivia"), "{list}");
    let me = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["is_you"] == true);
    assert_eq!(me.count(), 1, "{list}");
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_and_their_sessions_end_at_once() {
    let app = TestApp::start().await;
    let (admin, admin_name) = app.logged_in().await;
    let operator = app.user_with_role(PASSWORD, Role::Operator).await;
    let id = user_id(&app, &operator).await;
    let session = app.log_in_client(&operator, PASSWORD).await;
    assert_eq!(app.call(&session, "/api/whoami", json!({})).await.0, 200);

    let (status, changed) = app
        .call(
            &admin,
            "/api/users/set_disabled",
            json!({"id": id, "disabled": true}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["disabled"], true);
    let (status, answer) = app.call(&session, "/api/whoami", json!({})).await;
    assert_eq!((status, &answer["error"]), (401, &json!("unauthorized")));

    let (status, answer) = login(&app, &operator, PASSWORD).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(
        message_if(&answer, "forbidden"),
        "This account is disabled. Ask an admin to enable it again."
    );
    // A wrong password still reads as a wrong password: the state is told only to the owner.
    let (status, answer) = login(&app, &operator, "wrong password").await;
    assert_eq!((status, &answer["error"]), (401, &json!("login_failed")));

    let (status, _) = app
        .call(
            &admin,
            "/api/users/set_disabled",
            json!({"id": id, "disabled": false}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(login(&app, &operator, PASSWORD).await.0, 200);

    // An admin cannot lock themselves out.
    let own = user_id(&app, &admin_name).await;
    for (path, body) in [
        (
            "/api/users/set_disabled",
            json!({"id": own, "disabled": true}),
        ),
        (
            "/api/users/set_role",
            json!({"id": own, "role": "operator"}),
        ),
        (
            "/api/users/reset_password",
            json!({"id": own, "form": {"password": "a new horse", "confirm": "a new horse"}}),
        ),
    ] {
        let (status, answer) = app.call(&admin, path, body).await;
        assert_eq!(status, 409, "{path}: {answer}");
    }
    assert_eq!(app.call(&admin, "/api/whoami", json!({})).await.0, 200);
}

#[tokio::test]
async fn an_admin_resets_a_password_and_changes_a_role() {
    let app = TestApp::start().await;
    let (admin, _) = app.logged_in().await;
    let operator = app.user_with_role(PASSWORD, Role::Operator).await;
    let id = user_id(&app, &operator).await;
    let session = app.log_in_client(&operator, PASSWORD).await;
    let reset = |password: &str, confirm: &str| {
        let body = json!({"id": id, "form": {"password": password, "confirm": confirm}});
        let (app, admin) = (&app, &admin);
        async move { app.call(admin, "/api/users/reset_password", body).await }
    };
    let (status, answer) = reset("a new horse", "a new house").await;
    assert_eq!(
        (status, answer["fields"]["confirm"].is_string()),
        (422, true)
    );
    let (status, answer) = reset("short", "short").await;
    assert_eq!(
        (status, answer["fields"]["password"].is_string()),
        (422, true)
    );
    let (status, answer) = app
        .call(
            &admin,
            "/api/users/reset_password",
            json!({"id": uuid::Uuid::new_v4(), "form": {"password": "a new horse", "confirm": "a new horse"}}),
        )
        .await;
    assert_eq!(status, 404, "{answer}");

    let (status, answer) = reset("a new horse", "a new horse").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(app.call(&session, "/api/whoami", json!({})).await.0, 401);
    assert_eq!(login(&app, &operator, PASSWORD).await.0, 401);
    assert_eq!(login(&app, &operator, "a new horse").await.0, 200);

    let (status, changed) = app
        .call(
            &admin,
            "/api/users/set_role",
            json!({"id": id, "role": "admin"}),
        )
        .await;
    assert_eq!(
        (status, &changed["role"]),
        (200, &json!("admin")),
        "{changed}"
    );
    let promoted = app.log_in_client(&operator, "a new horse").await;
    assert_eq!(
        app.call(&promoted, "/api/users/list", json!({})).await.0,
        200
    );
}

#[tokio::test]
async fn a_user_changes_their_own_password_and_keeps_this_session_only() {
    let app = TestApp::start().await;
    let operator = app.user_with_role(PASSWORD, Role::Operator).await;
    let this = app.log_in_client(&operator, PASSWORD).await;
    let other = app.log_in_client(&operator, PASSWORD).await;
    let change = |current: &str, new: &str, confirm: &str| {
        let body =
            json!({"form": {"current_password": current, "new_password": new, "confirm": confirm}});
        let (app, this) = (&app, &this);
        async move { app.call(this, "/api/account/change_password", body).await }
    };
    for (current, new, confirm, field) in [
        ("", "a new horse", "a new horse", "current_password"),
        (
            "wrong password",
            "a new horse",
            "a new horse",
            "current_password",
        ),
        (PASSWORD, "short", "short", "new_password"),
        (PASSWORD, "a new horse", "a new house", "confirm"),
    ] {
        let (status, answer) = change(current, new, confirm).await;
        assert_eq!(status, 422, "{field}: {answer}");
        assert!(answer["fields"][field].is_string(), "{field}: {answer}");
    }
    assert_eq!(app.call(&other, "/api/whoami", json!({})).await.0, 200);

    let (status, answer) = change(PASSWORD, "a new horse", "a new horse").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(app.call(&this, "/api/whoami", json!({})).await.0, 200);
    assert_eq!(app.call(&other, "/api/whoami", json!({})).await.0, 401);
    assert_eq!(login(&app, &operator, PASSWORD).await.0, 401);
    assert_eq!(login(&app, &operator, "a new horse").await.0, 200);
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_like_a_login() {
    let app = TestApp::start().await;
    let operator = app.user_with_role(PASSWORD, Role::Operator).await;
    let client = app.log_in_client(&operator, PASSWORD).await;
    let body = |current: &str| json!({"form": {"current_password": current, "new_password": "a new horse", "confirm": "a new horse"}});
    for _ in 0..backend::accounts::MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS {
        let (status, _) = app
            .call(&client, "/api/account/change_password", body("wrong guess"))
            .await;
        assert_eq!(status, 422);
    }
    let (status, answer) = app
        .call(&client, "/api/account/change_password", body(PASSWORD))
        .await;
    assert_eq!(status, 429, "{answer}");
    assert!(answer["retry_after_secs"].as_i64().unwrap() > 0);
}
