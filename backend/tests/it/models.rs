//! Migrations and model functions against a real PostgreSQL (one database per test).

use backend::crypto::{Purpose, SecretBox};
use backend::db::{self, DbConn};
use backend::models::{NewNode, NodeRow, Session, User, is_unique_violation};
use chrono::{Duration, Utc};
use domain::user::Role;

async fn conn() -> DbConn {
    let url = testkit::migrated_database().await;
    db::pool(&url, 2).unwrap().get().await.unwrap()
}

#[tokio::test]
async fn migrations_apply_on_an_empty_database_and_are_idempotent() {
    use diesel_async::RunQueryDsl;
    let url = testkit::empty_database().await;
    db::run_migrations(&url).await.expect("first run");
    db::run_migrations(&url)
        .await
        .expect("second run is a no-op");
    let mut conn = db::pool(&url, 1).unwrap().get().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
    }
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let names: Vec<String> = tables.into_iter().map(|t| t.table_name).collect();
    for expected in [
        "users",
        "sessions",
        "pve_nodes",
        "templates",
        "template_scripts",
        "template_files",
        "template_packages",
        "package_buckets",
        "bucket_packages",
        "template_buckets",
        "containers",
        "container_events",
        "container_services",
        "container_credentials",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "missing table {expected}: {names:?}"
        );
    }
}

#[tokio::test]
async fn users_are_unique_by_name() {
    let mut conn = conn().await;
    assert_eq!(User::count(&mut conn).await.unwrap(), 0);
    let user = User::create(&mut conn, "alice", "hash-1", Role::Admin)
        .await
        .unwrap();
    let found = User::find_by_username(&mut conn, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, user.id);
    assert!(
        User::find_by_username(&mut conn, "bob")
            .await
            .unwrap()
            .is_none()
    );
    let duplicate = User::create(&mut conn, "alice", "hash-2", Role::Admin)
        .await
        .unwrap_err();
    assert!(is_unique_violation(&duplicate));
    assert!(
        User::set_password_hash(&mut conn, user.id, "hash-3")
            .await
            .unwrap()
    );
    let found = User::find_by_username(&mut conn, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.password_hash, "hash-3");
    assert_eq!(User::count(&mut conn).await.unwrap(), 1);
}

#[tokio::test]
async fn sessions_expire_and_end() {
    let mut conn = conn().await;
    let user = User::create(&mut conn, "carol", "h", Role::Admin)
        .await
        .unwrap();
    let now = Utc::now();
    Session::create(
        &mut conn,
        b"live-token-hash",
        user.id,
        now + Duration::hours(1),
    )
    .await
    .unwrap();
    Session::create(
        &mut conn,
        b"old-token-hash",
        user.id,
        now - Duration::seconds(1),
    )
    .await
    .unwrap();

    let (session, name) = Session::find_valid(&mut conn, b"live-token-hash", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((session.user_id, name.as_str()), (user.id, "carol"));
    assert!(
        Session::find_valid(&mut conn, b"old-token-hash", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        Session::find_valid(&mut conn, b"unknown", now)
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(Session::delete_expired(&mut conn, now).await.unwrap(), 1);
    Session::delete(&mut conn, b"live-token-hash")
        .await
        .unwrap();
    assert!(
        Session::find_valid(&mut conn, b"live-token-hash", now)
            .await
            .unwrap()
            .is_none()
    );

    Session::create(&mut conn, b"a", user.id, now + Duration::hours(1))
        .await
        .unwrap();
    Session::create(&mut conn, b"b", user.id, now + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        Session::delete_for_user(&mut conn, user.id).await.unwrap(),
        2
    );
}

fn new_node(name: &str, secret: Option<Vec<u8>>) -> NewNode {
    NewNode {
        name: name.into(),
        host: "192.0.2.10".into(),
        port: 8006,
        token_id: "root@pam!infrahaus".into(),
        token_secret_enc: secret,
        tls_fingerprint: Some(["AB"; 32].join(":")),
        ssh_port: 22,
    }
}

#[tokio::test]
async fn nodes_keep_their_secret_sealed_and_unchanged_on_edit() {
    let mut conn = conn().await;
    let secrets = SecretBox::from_key(&[3u8; 32]);
    let sealed = secrets.seal_str(Purpose::NodeTokenSecret, "token-secret-value");
    let node = NodeRow::insert(&mut conn, &new_node("pve", Some(sealed)))
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&node.token_secret_enc).contains("token-secret-value"));
    assert!(!format!("{node:?}").contains("token_secret"));

    let mut edit = new_node("pve-renamed", None);
    edit.tls_fingerprint = None;
    let edited = NodeRow::update(&mut conn, node.id, &edit).await.unwrap();
    assert_eq!(edited.name, "pve-renamed");
    assert_eq!(edited.tls_fingerprint, None);
    assert_eq!(
        secrets
            .open_str(Purpose::NodeTokenSecret, &edited.token_secret_enc)
            .unwrap(),
        "token-secret-value"
    );

    let other = secrets.seal_str(Purpose::NodeTokenSecret, "x");
    let duplicate = NodeRow::insert(&mut conn, &new_node("pve-renamed", Some(other)))
        .await
        .unwrap_err();
    assert!(is_unique_violation(&duplicate));

    assert_eq!(NodeRow::list(&mut conn).await.unwrap().len(), 1);
    assert!(
        NodeRow::find_by_name(&mut conn, "pve-renamed")
            .await
            .unwrap()
            .is_some()
    );
    assert!(NodeRow::delete(&mut conn, node.id).await.unwrap());
    assert!(!NodeRow::delete(&mut conn, node.id).await.unwrap());
    assert!(matches!(
        NodeRow::find(&mut conn, node.id).await,
        Err(diesel::result::Error::NotFound)
    ));
}

#[tokio::test]
async fn a_node_ssh_host_key_is_pinned_once() {
    let mut conn = conn().await;
    let secrets = SecretBox::from_key(&[3u8; 32]);
    let sealed = secrets.seal_str(Purpose::NodeTokenSecret, "s");
    let mut new = new_node("pinned", Some(sealed));
    new.ssh_port = 2222;
    let node = NodeRow::insert(&mut conn, &new).await.unwrap();
    assert_eq!(node.ssh_port, 2222);
    assert_eq!(node.ssh_host_key, None);
    let first = NodeRow::pin_ssh_host_key(&mut conn, node.id, "ssh-ed25519 AAAAfirst")
        .await
        .unwrap();
    assert_eq!(first, "ssh-ed25519 AAAAfirst");
    // A later, different key does not replace the pinned one: the caller compares and refuses.
    let second = NodeRow::pin_ssh_host_key(&mut conn, node.id, "ssh-ed25519 AAAAother")
        .await
        .unwrap();
    assert_eq!(second, "ssh-ed25519 AAAAfirst");
}
