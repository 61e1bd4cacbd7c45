//! The update-run calls through the public API: who may call them, and each refusal with its
//! status and the field or state it names. (The run itself is tested with the worker in
//! `worker/tests/pipeline/update.rs` and through the browser in `e2e/tests/it/update.rs`.)

use domain::container::Lifecycle;
use serde_json::json;
use testkit::server::TestApp;

#[tokio::test]
async fn update_calls_refuse_callers_without_a_session() {
    let app = TestApp::start().await;
    let id = app.container(Lifecycle::Ready).await;
    let client = app.client();
    for (path, body) in [
        (
            "/api/containers/update-preview",
            json!({"id": id, "source": "stored"}),
        ),
        (
            "/api/containers/update",
            json!({"id": id, "source": "stored"}),
        ),
        ("/api/containers/runs", json!({"id": id})),
    ] {
        let (status, body) = app.call(&client, path, body).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"], "unauthorized", "{path}");
    }
}

#[tokio::test]
async fn an_update_is_refused_with_the_reason_and_nothing_changes() {
    let app = TestApp::start().await;
    let (client, _) = app.logged_in().await;
    let creating = app.container(Lifecycle::Creating).await;
    let ready = app.container(Lifecycle::Ready).await;

    // Still being created: 409, and it stays `creating` with one run.
    let (status, body) = app
        .call(
            &client,
            "/api/containers/update",
            json!({"id": creating, "source": "stored"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("it is still being created"),
        "{body}"
    );

    // Not made from a template: the source field is named.
    for path in ["/api/containers/update-preview", "/api/containers/update"] {
        let (status, body) = app
            .call(&client, path, json!({"id": ready, "source": "template"}))
            .await;
        assert_eq!(status, 422, "{path}: {body}");
        assert!(body["fields"]["source"].is_string(), "{path}: {body}");
    }
    // An unknown source or a malformed id is a readable 400.
    let (status, body) = app
        .call(
            &client,
            "/api/containers/update",
            json!({"id": ready, "source": "latest"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        !body["message"].as_str().unwrap().contains("UpdateSource"),
        "{body}"
    );
    // No such container.
    let (status, _) = app
        .call(
            &client,
            "/api/containers/runs",
            json!({"id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(status, 404);

    let (status, runs) = app
        .call(&client, "/api/containers/runs", json!({"id": ready}))
        .await;
    assert_eq!(status, 200, "{runs}");
    assert_eq!(
        runs.as_array().unwrap().len(),
        1,
        "nothing was started: {runs}"
    );
    let mut conn = app.ctx.db.get().await.unwrap();
    let row = backend::models::ContainerRow::find(&mut conn, ready)
        .await
        .unwrap();
    assert_eq!(row.lifecycle, Lifecycle::Ready);
}

#[tokio::test]
async fn re_applying_the_stored_configuration_queues_a_second_run() {
    let app = TestApp::start().await;
    let (client, user) = app.logged_in().await;
    let id = app.container(Lifecycle::Ready).await;
    let (status, preview) = app
        .call(
            &client,
            "/api/containers/update-preview",
            json!({"id": id, "source": "stored"}),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["changes"], json!([]));

    let (status, number) = app
        .call(
            &client,
            "/api/containers/update",
            json!({"id": id, "source": "stored"}),
        )
        .await;
    assert_eq!((status, number.clone()), (200, json!(2)), "{number}");
    // A second click finds it updating.
    let (status, body) = app
        .call(
            &client,
            "/api/containers/update",
            json!({"id": id, "source": "stored"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("an update is running")
    );

    let (_, runs) = app
        .call(&client, "/api/containers/runs", json!({"id": id}))
        .await;
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["kind"], "update");
    assert_eq!(runs[1]["source"], "stored");
    assert_eq!(runs[1]["started_by"], json!(user));
    assert_eq!(runs[1]["outcome"], json!(null));
    let mut conn = app.ctx.db.get().await.unwrap();
    let row = backend::models::ContainerRow::find(&mut conn, id)
        .await
        .unwrap();
    assert_eq!(row.lifecycle, Lifecycle::Updating);
    // The run's first event announces it, and the job is on the queue for a worker.
    let events = backend::models::event::EventRow::list_after(&mut conn, id, 0, 100)
        .await
        .unwrap();
    assert_eq!(
        events.last().map(|e| e.message.as_str()),
        Some("Update 2: applying the container's stored configuration.")
    );
    assert_eq!(runs[1]["first_seq"], json!(events.last().unwrap().seq));
}
