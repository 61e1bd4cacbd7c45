//! Who may open which credential, and the audit record of reveals, power actions and deletions,
//! over real HTTP (the simulator for the power actions and the deletion).

use crate::containers::{create_on_sim, exists_on_sim, sim_client, sim_node, simulator};
use backend::models::{ContainerRow, CredentialRow, NewContainer};
use domain::container::{Credential, Lifecycle};
use domain::user::Role;
use domain::{ContainerId, NodeId, UserId};
use serde_json::{Value, json};
use testkit::server::{TestApp, message_if};

const PASSWORD: &str = "correct horse battery";
pub(crate) const SECRET: &str = "s3cret-credential-9f2e";

pub(crate) async fn id_of(app: &TestApp, username: &str) -> UserId {
    let mut conn = app.ctx.db.get().await.unwrap();
    backend::models::User::find_by_username(&mut conn, username)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A ready container that `created_by` created, with one credential, `db-password` ([`SECRET`]).
pub(crate) async fn container_by(
    app: &TestApp,
    node: NodeId,
    vmid: u32,
    hostname: &str,
    created_by: Option<UserId>,
) -> ContainerId {
    let mut conn = app.ctx.db.get().await.unwrap();
    let spec = testkit::fixtures::spec(node, vmid, hostname);
    let new = NewContainer {
        lifecycle: Lifecycle::Ready,
        created_by,
        ..testkit::fixtures::new_container(&spec, None)
    };
    let id = ContainerRow::insert(&mut conn, &new).await.unwrap().id;
    let credential = Credential {
        name: "db-password".into(),
        value: SECRET.into(),
    };
    CredentialRow::replace_all(&mut conn, &app.ctx.secrets, id, &[credential])
        .await
        .unwrap();
    id
}

async fn reveal(app: &TestApp, client: &reqwest::Client, id: ContainerId) -> (u16, Value) {
    app.call(
        client,
        "/api/containers/reveal",
        json!({"id": id, "name": "db-password"}),
    )
    .await
}

/// The container's activity as (user, action, detail), newest first.
async fn activity(
    app: &TestApp,
    client: &reqwest::Client,
    id: ContainerId,
) -> Vec<(String, String, String)> {
    let (status, entries) = app
        .call(client, "/api/containers/activity", json!({"id": id}))
        .await;
    assert_eq!(status, 200, "{entries}");
    triples(&entries)
}

fn triples(entries: &Value) -> Vec<(String, String, String)> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["at"].as_str().unwrap().ends_with(" UTC"), "{e}");
            let text = |key: &str| e[key].as_str().unwrap().to_owned();
            (text("username"), text("action"), text("detail"))
        })
        .collect()
}

fn entry(user: &str, action: &str, detail: &str) -> (String, String, String) {
    (user.into(), action.into(), detail.into())
}

#[tokio::test]
async fn operators_open_only_the_credentials_of_containers_they_created_and_reveals_are_recorded() {
    let app = TestApp::start().await;
    let admin_name = app.user(PASSWORD).await;
    let operator_name = app.user_with_role(PASSWORD, Role::Operator).await;
    let admin = app.log_in_client(&admin_name, PASSWORD).await;
    let operator = app.log_in_client(&operator_name, PASSWORD).await;
    let node = {
        let mut conn = app.ctx.db.get().await.unwrap();
        testkit::fixtures::unreachable_node(&mut conn).await.id
    };
    let admins = container_by(
        &app,
        node,
        120,
        "admins",
        Some(id_of(&app, &admin_name).await),
    )
    .await;
    let own = container_by(
        &app,
        node,
        121,
        "own",
        Some(id_of(&app, &operator_name).await),
    )
    .await;
    let nobodys = container_by(&app, node, 122, "nobodys", None).await;

    for other in [admins, nobodys] {
        let (status, answer) = reveal(&app, &operator, other).await;
        assert_eq!(status, 403, "{answer}");
        assert_eq!(
            message_if(&answer, "forbidden"),
            "Only admins and the user who created this container can open its credentials."
        );
        assert!(!answer.to_string().contains(SECRET));
    }
    let (status, answer) = reveal(&app, &operator, own).await;
    assert_eq!(
        (status, &answer["value"]),
        (200, &json!(SECRET)),
        "{answer}"
    );
    for any in [admins, own, nobodys] {
        let (status, answer) = reveal(&app, &admin, any).await;
        assert_eq!(
            (status, &answer["value"]),
            (200, &json!(SECRET)),
            "{answer}"
        );
    }
    let (status, _) = app
        .call(
            &admin,
            "/api/containers/reveal",
            json!({"id": own, "name": "no-such-credential"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = reveal(&app, &admin, ContainerId::new_random()).await;
    assert_eq!(status, 404);

    // Newest first; refused and unknown reveals are not reveals.
    assert_eq!(
        activity(&app, &operator, own).await,
        vec![
            entry(&admin_name, "credential_revealed", "db-password"),
            entry(&operator_name, "credential_revealed", "db-password"),
        ]
    );
    assert_eq!(
        activity(&app, &operator, admins).await,
        vec![entry(&admin_name, "credential_revealed", "db-password")]
    );
    let (status, _) = app
        .call(
            &admin,
            "/api/containers/activity",
            json!({"id": ContainerId::new_random()}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn power_actions_and_deletions_are_recorded_with_who_did_them() {
    let sim = simulator().await;
    let pve = sim_client(&sim);
    let app = TestApp::start().await;
    let admin_name = app.user(PASSWORD).await;
    let operator_name = app.user_with_role(PASSWORD, Role::Operator).await;
    let admin = app.log_in_client(&admin_name, PASSWORD).await;
    let operator = app.log_in_client(&operator_name, PASSWORD).await;
    let node = sim_node(&app, &sim).await;
    create_on_sim(&pve, 160, "web-1").await;
    let id = container_by(
        &app,
        node,
        160,
        "web-1",
        Some(id_of(&app, &admin_name).await),
    )
    .await;

    // Operators manage every container, whoever created it.
    let (status, answer) = app
        .call(
            &operator,
            "/api/containers/power",
            json!({"id": id, "action": "start"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = app
        .call(
            &admin,
            "/api/containers/power",
            json!({"id": id, "action": "stop"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        activity(&app, &operator, id).await,
        vec![
            entry(&admin_name, "power", "Stop"),
            entry(&operator_name, "power", "Start"),
        ]
    );

    let (status, answer) = app
        .call(&operator, "/api/containers/delete", json!({"id": id}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(!exists_on_sim(&pve, 160).await);
    // The container's page is gone; the record stays, on the admins' list of every container.
    let (status, _) = app
        .call(&admin, "/api/containers/activity", json!({"id": id}))
        .await;
    assert_eq!(status, 404);
    let (status, recent) = app.call(&admin, "/api/activity/recent", json!({})).await;
    assert_eq!(status, 200, "{recent}");
    assert_eq!(
        triples(&recent),
        vec![
            entry(&operator_name, "deleted", ""),
            entry(&admin_name, "power", "Stop"),
            entry(&operator_name, "power", "Start"),
        ]
    );
    assert_eq!(recent[0]["container"], "web-1 (VMID 160)");
    sim.shutdown().await;
}
