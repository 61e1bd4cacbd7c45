//! `server node add` against a real database: adds, updates in place, refuses bad input.

use backend::crypto::{Purpose, SecretBox};
use backend::models::NodeRow;

fn node_add(
    database_url: &str,
    key_file: &std::path::Path,
    args: &[&str],
    secret: &str,
) -> (bool, String) {
    let args: Vec<&str> = ["node", "add"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    let env = [("INFRAHAUS_SECRET_KEY_FILE", key_file)];
    crate::cli::run_server(&args, database_url, &env, secret)
}

#[tokio::test]
async fn node_add_registers_updates_and_refuses_bad_input() {
    let database_url = testkit::migrated_database().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("secret.key");
    let fp = ["AB"; 32].join(":");
    let args = [
        "--name",
        "demo",
        "--host",
        "127.0.0.1",
        "--port",
        "8006",
        "--ssh-port",
        "8022",
        "--token-id",
        "root@pam!infrahaus",
        "--fingerprint",
        &fp,
    ];
    let (ok, out) = node_add(&database_url, &key_file, &args, "first-secret");
    assert!(ok, "{out}");
    assert!(out.contains("added node demo"), "{out}");
    let (ok, out) = node_add(&database_url, &key_file, &args, "second-secret");
    assert!(ok, "{out}");
    assert!(out.contains("updated node demo"), "{out}");

    let pool = backend::db::pool(&database_url, 1).unwrap();
    let mut conn = pool.get().await.unwrap();
    let nodes = NodeRow::list(&mut conn).await.unwrap();
    assert_eq!(nodes.len(), 1, "added twice");
    let node = &nodes[0];
    assert_eq!((node.port, node.ssh_port), (8006, 8022));
    assert_eq!(node.tls_fingerprint.as_deref(), Some(fp.as_str()));
    let secrets = SecretBox::load_or_create(&key_file).unwrap();
    assert_eq!(
        secrets
            .open_str(Purpose::NodeTokenSecret, &node.token_secret_enc)
            .unwrap(),
        "second-secret"
    );

    let (ok, out) = node_add(
        &database_url,
        &key_file,
        &[
            "--name",
            "bad",
            "--host",
            "127.0.0.1",
            "--token-id",
            "root@pam!x",
            "--fingerprint",
            "AB:CD",
        ],
        "s",
    );
    assert!(!ok);
    assert!(out.contains("fingerprint:"), "{out}");
    assert_eq!(NodeRow::list(&mut conn).await.unwrap().len(), 1);
}
