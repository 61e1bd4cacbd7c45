//! The service-health server functions without a worker: who may call them, what they refuse,
//! that many asks queue one check, and that a stored report comes back with its age.

use backend::health::{HealthChecks, Requested};
use domain::container::Lifecycle;
use domain::health::{CheckedVia, HealthReport, PortState, ServiceHealth, UnitState};
use fred::prelude::*;
use serde_json::json;
use testkit::server::TestApp;

fn checks(app: &TestApp) -> HealthChecks {
    HealthChecks::new(app.ctx.redis.clone(), app.ctx.queue.keys().namespace())
}

/// Check requests waiting for a worker.
async fn queued(app: &TestApp) -> i64 {
    let key = format!("{}:health:requests", app.ctx.queue.keys().namespace());
    app.ctx.redis.llen(key).await.unwrap()
}

#[tokio::test]
async fn both_calls_refuse_callers_without_a_session() {
    let app = TestApp::start().await;
    let id = app.container(Lifecycle::Ready).await;
    for path in ["/api/containers/health", "/api/containers/check-health"] {
        let (status, answer) = app.call(&app.client(), path, json!({ "id": id })).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (401, Some("unauthorized")),
            "{path}: {answer}"
        );
    }
    assert_eq!(queued(&app).await, 0, "nothing was asked for");
}

#[tokio::test]
async fn checks_are_asked_once_for_ready_containers_only() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let unknown = json!({ "id": uuid::Uuid::new_v4() });
    for path in ["/api/containers/health", "/api/containers/check-health"] {
        let (status, answer) = app.call(&client, path, unknown.clone()).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    let creating = app.container(Lifecycle::Creating).await;
    let (status, answer) = app
        .call(
            &client,
            "/api/containers/check-health",
            json!({ "id": creating }),
        )
        .await;
    assert_eq!(
        (status, answer["message"].as_str()),
        (
            409,
            Some("Services are checked once the container is ready.")
        ),
        "{answer}"
    );

    let ready = app.container(Lifecycle::Ready).await;
    let (status, view) = app
        .call(&client, "/api/containers/health", json!({ "id": ready }))
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        view,
        json!({ "report": null, "age_secs": null, "checking": false })
    );
    // Three clicks (or pages) while no worker answers: one request.
    for _ in 0..3 {
        let (status, view) = app
            .call(
                &client,
                "/api/containers/check-health",
                json!({ "id": ready }),
            )
            .await;
        assert_eq!(
            (status, view["checking"].as_bool()),
            (200, Some(true)),
            "{view}"
        );
    }
    assert_eq!(queued(&app).await, 1);
    assert_eq!(
        checks(&app).request(ready).await.unwrap(),
        Requested::AlreadyPending
    );
}

#[tokio::test]
async fn a_stored_report_comes_back_with_its_age_and_ends_the_check() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let id = app.container(Lifecycle::Ready).await;
    let (_, view) = app
        .call(&client, "/api/containers/check-health", json!({ "id": id }))
        .await;
    assert_eq!(view["checking"], json!(true));
    let report = HealthReport {
        checked_at: chrono::Utc::now().timestamp() - 30,
        via: Some(CheckedVia::ContainerSsh),
        note: None,
        problem: None,
        services: vec![ServiceHealth {
            name: "nginx".into(),
            port: Some(80),
            unit: UnitState::Failed,
            port_state: Some(PortState::Closed),
            journal: vec!["nginx.service: Failed with result 'signal'.".into()],
        }],
        refresh_secs: 180,
    };
    checks(&app).store(id, &report).await.unwrap();
    let (status, view) = app
        .call(&client, "/api/containers/health", json!({ "id": id }))
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["checking"], json!(false));
    assert!(view["age_secs"].as_u64().unwrap() >= 30, "{view}");
    let service = &view["report"]["services"][0];
    assert_eq!(
        (service["unit"].as_str(), service["port_state"].as_str()),
        (Some("failed"), Some("closed"))
    );
    assert_eq!(view["report"]["via"], json!("container-ssh"));
    // With the report stored a new ask queues again.
    assert_eq!(checks(&app).request(id).await.unwrap(), Requested::Queued);
}
