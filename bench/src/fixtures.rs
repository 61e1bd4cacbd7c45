//! What the measurements need in the database and the server: a user with a session, a node,
//! containers being created, and stored events.

use crate::procs::Env;
use anyhow::{Context, bail};
use backend::db::DbPool;
use backend::models::event::EventRow;
use backend::models::{NewContainer, NewNode, NodeRow};
use backend::schema::containers;
use chrono::Utc;
use diesel_async::RunQueryDsl;
use domain::ContainerId;
use domain::container::{Lifecycle, Phase};
use domain::event::{EventKind, LogStream, ProgressEvent};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

/// Creates a user with `server user create` (the password on standard input).
pub async fn create_user(env: &Env, username: &str, password: &str) -> anyhow::Result<()> {
    let mut child = env
        .command("server")
        .args(["user", "create", "--username", username])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("could not run server user create")?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    stdin.write_all(format!("{password}\n").as_bytes()).await?;
    drop(stdin);
    let output = child.wait_with_output().await?;
    if !output.status.success() {
        bail!(
            "server user create failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Logs in through the login server function; returns the `Cookie` header value.
pub async fn login(base_url: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let response = reqwest::Client::new()
        .post(format!("{base_url}/api/login"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"username": username, "password": password}).to_string())
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("login answered {}", response.status());
    }
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("infrahaus_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .context("login set no session cookie")
}

/// A node row for the benchmark's containers.
pub async fn node(db: &DbPool) -> anyhow::Result<domain::NodeId> {
    let mut conn = db.get().await?;
    let node = NodeRow::insert(
        &mut conn,
        &NewNode {
            name: format!("bench-{}", uuid::Uuid::new_v4().simple()),
            host: "192.0.2.10".into(),
            port: 8006,
            token_id: "root@pam!bench".into(),
            token_secret_enc: Some(vec![0; 16]),
            tls_fingerprint: None,
            ssh_port: 22,
        },
    )
    .await?;
    Ok(node.id)
}

/// `count` containers being created on `node`.
pub async fn containers(
    db: &DbPool,
    node: domain::NodeId,
    count: usize,
) -> anyhow::Result<Vec<ContainerId>> {
    let mut conn = db.get().await?;
    let vmid = domain::values::Vmid::new(100).map_err(anyhow::Error::msg)?;
    let hostname = domain::values::Hostname::parse("bench").map_err(anyhow::Error::msg)?;
    let ids: Vec<ContainerId> = (0..count).map(|_| ContainerId::new_random()).collect();
    for chunk in ids.chunks(1000) {
        let rows: Vec<NewContainer> = chunk
            .iter()
            .map(|&id| NewContainer {
                id,
                node_id: node,
                template_id: None,
                vmid,
                hostname: hostname.clone(),
                lifecycle: Lifecycle::Creating,
                config: serde_json::json!({}),
                root_password_enc: None,
                created_by: None,
            })
            .collect();
        diesel::insert_into(containers::table)
            .values(&rows)
            .execute(&mut conn)
            .await?;
    }
    Ok(ids)
}

/// A log event as the worker's sink makes it.
pub fn log_event(seq: i64, message: String) -> ProgressEvent {
    ProgressEvent {
        seq,
        kind: EventKind::Log,
        phase: Phase::Deploy,
        percent: 50,
        message,
        stream: Some(LogStream::Stdout),
        script: None,
        at: Utc::now(),
    }
}

/// Stores `events` as the worker's sink does.
pub async fn store(
    db: &DbPool,
    container: ContainerId,
    events: &[ProgressEvent],
) -> anyhow::Result<()> {
    let mut conn = db.get().await?;
    EventRow::insert_batch(&mut conn, container, events).await?;
    Ok(())
}
