//! A real server for tests: the app's router on 127.0.0.1:0 with a fresh database and the test
//! Redis, and a cookie-keeping HTTP client to call it.

#[cfg(feature = "browser")]
pub mod browser;

use app::ssr::ServerContext;
use backend::crypto::SecretBox;
use backend::db::DbPool;
use backend::redis::RedisClient;
use serde_json::Value;
use std::path::PathBuf;

pub struct TestApp {
    pub url: String,
    pub ctx: ServerContext,
    pub database_url: String,
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with_session(chrono::Duration::hours(1)).await
    }

    pub async fn start_with_session(session_lifetime: chrono::Duration) -> Self {
        let database_url = crate::migrated_database().await;
        Self::start_on(database_url.clone(), database_url, session_lifetime).await
    }

    /// A server whose database connections go through a [`crate::TcpGate`], so the test can
    /// take PostgreSQL away from this server alone and bring it back.
    pub async fn start_behind_db_gate() -> (Self, crate::TcpGate) {
        let database_url = crate::migrated_database().await;
        let (prefix, rest) = database_url.rsplit_once('@').unwrap();
        let (authority, database) = rest.split_once('/').unwrap();
        let target = tokio::net::lookup_host(authority)
            .await
            .unwrap()
            .next()
            .unwrap();
        let gate = crate::TcpGate::start(target).await;
        let gated_url = format!("{prefix}@{}/{database}", gate.address());
        let app = Self::start_on(gated_url, database_url, chrono::Duration::hours(1)).await;
        (app, gate)
    }

    /// A server whose pool uses `pool_url`; `database_url` is the same database, reached
    /// directly.
    async fn start_on(
        pool_url: String,
        database_url: String,
        session_lifetime: chrono::Duration,
    ) -> Self {
        let redis = backend::redis::connect(&crate::redis_url()).await.unwrap();
        let db = backend::db::pool(&pool_url, 8).unwrap();
        Self::start_with(db, redis, database_url, session_lifetime).await
    }

    /// A server on the given pool and Redis client (which may go through gates of the
    /// test's); `database_url` reaches the same database directly.
    pub async fn start_with(
        db: DbPool,
        redis: RedisClient,
        database_url: String,
        session_lifetime: chrono::Duration,
    ) -> Self {
        // Each test app has its own queue keys, so tests running side by side never share jobs.
        let queue = backend::queue::Queue::with_keys(
            redis.clone(),
            backend::queue::QueueKeys::namespaced(&crate::unique("queue")),
        );
        let ctx = ServerContext {
            db,
            redis,
            queue,
            progress: backend::events::ProgressHub::connect(&crate::redis_url())
                .await
                .unwrap(),
            live: Default::default(),
            secrets: SecretBox::from_key(&[9u8; 32]),
            session_lifetime,
            secure_cookies: false,
            templates_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../templates"),
            trusted_proxies: std::sync::Arc::from([std::net::IpAddr::from([127, 0, 0, 1])]),
        };
        let url = server::spawn_on_loopback(ctx.clone(), &crate::site_root())
            .await
            .unwrap();
        Self {
            url,
            ctx,
            database_url,
        }
    }

    /// A second server on this one's database with the context `ctx` (this one's with some
    /// parts replaced, e.g. `live` pollers with other settings).
    pub async fn sibling(&self, ctx: ServerContext) -> Self {
        let url = server::spawn_on_loopback(ctx.clone(), &crate::site_root())
            .await
            .unwrap();
        Self {
            url,
            ctx,
            database_url: self.database_url.clone(),
        }
    }

    /// A second server on this one's database and context that serves the SPA from
    /// `site_root` instead of the built app (for tests of how static files are served).
    pub async fn serving(&self, site_root: &std::path::Path) -> Self {
        let url = server::spawn_on_loopback(self.ctx.clone(), site_root)
            .await
            .unwrap();
        Self {
            url,
            ctx: self.ctx.clone(),
            database_url: self.database_url.clone(),
        }
    }

    /// Creates an admin with a unique name; returns the name.
    pub async fn user(&self, password: &str) -> String {
        self.user_with_role(password, domain::user::Role::Admin)
            .await
    }

    /// Creates a user with a unique name and `role`; returns the name.
    pub async fn user_with_role(&self, password: &str, role: domain::user::Role) -> String {
        let name = crate::unique("user");
        let mut conn = self.ctx.db.get().await.unwrap();
        backend::accounts::create_user_with_role(&mut conn, &name, password, role)
            .await
            .unwrap();
        name
    }

    /// A client logged in (through the login call) as `user` with `password`.
    pub async fn log_in_client(&self, user: &str, password: &str) -> reqwest::Client {
        let client = self.client();
        let (status, body) = self
            .call(
                &client,
                "/api/login",
                serde_json::json!({"username": user, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "login failed: {body}");
        client
    }

    /// A client that keeps cookies and does not follow redirects. It comes from an address of
    /// its own (`X-Forwarded-For`, the test server trusts 127.0.0.1 as a proxy), so login
    /// throttling in one test never meets another test's attempts.
    pub fn client(&self) -> reqwest::Client {
        self.client_from(&crate::unique_client_address())
    }

    /// A client that the server sees at `address`.
    pub fn client_from(&self, address: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", address.parse().unwrap());
        pve_client::tls::install_default_provider();
        reqwest::Client::builder()
            .default_headers(headers)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Calls a server function with a JSON body; returns the status and the JSON answer.
    pub async fn call(&self, client: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
        let response = client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A client logged in as a new admin.
    pub async fn logged_in(&self) -> (reqwest::Client, String) {
        let name = self.user("correct horse battery").await;
        (
            self.log_in_client(&name, "correct horse battery").await,
            name,
        )
    }
}

/// Containers and Redis bookkeeping for the progress-stream tests.
impl TestApp {
    /// A container row, on a node of its own, in `lifecycle`.
    pub async fn container(&self, lifecycle: domain::container::Lifecycle) -> domain::ContainerId {
        use crate::fixtures;
        let mut conn = self.ctx.db.get().await.unwrap();
        let node = fixtures::unreachable_node(&mut conn).await;
        fixtures::container(&mut conn, &fixtures::spec(node.id, 100, "ct"), lifecycle).await
    }

    /// Publishes `batch` on the container's progress channel, as the worker's sink does.
    pub async fn publish(
        &self,
        container: domain::ContainerId,
        batch: &[domain::event::ProgressEvent],
    ) {
        use fred::prelude::*;
        let _: i64 = self
            .ctx
            .redis
            .publish(
                backend::events::channel(container),
                backend::events::encode(batch),
            )
            .await
            .unwrap();
    }

    /// Subscribers of a container's progress channel (`PUBSUB NUMSUB`).
    pub async fn subscribers(&self, container: domain::ContainerId) -> i64 {
        use fred::prelude::*;
        let reply: Vec<fred::types::Value> = self
            .ctx
            .redis
            .pubsub_numsub(backend::events::channel(container))
            .await
            .unwrap();
        reply.get(1).and_then(|v| v.as_i64()).unwrap()
    }

    /// How many clients `CLIENT LIST` shows from this process's sockets.
    pub async fn redis_connections(&self) -> usize {
        self.own_clients().await.len()
    }

    /// Cuts the hub's subscriber connection, as a network failure would.
    pub async fn kill_progress_subscriber(&self) {
        let subscriber = self
            .own_clients()
            .await
            .into_iter()
            .find(|line| {
                line.split(' ')
                    .any(|f| f.starts_with("sub=") && f != "sub=0")
            })
            .expect("the hub's subscriber connection");
        let id = subscriber
            .split(' ')
            .find_map(|f| f.strip_prefix("id="))
            .unwrap()
            .to_owned();
        let _: fred::types::Value = self
            .redis_command("CLIENT", vec!["KILL", "ID", id.as_str()])
            .await;
    }

    /// The `CLIENT LIST` lines of this process's connections.
    async fn own_clients(&self) -> Vec<String> {
        let list: String = self.redis_command("CLIENT", vec!["LIST"]).await;
        crate::own_client_lines(&list)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    async fn redis_command<R: fred::types::FromValue>(
        &self,
        name: &'static str,
        args: Vec<&str>,
    ) -> R {
        use fred::prelude::*;
        let command =
            fred::types::CustomCommand::new_static(name, fred::types::ClusterHash::FirstKey, false);
        self.ctx.redis.custom(command, args).await.unwrap()
    }
}

/// Waits up to 10 s for `check` to hold; panics with `what` otherwise.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The `message` of an error envelope whose `error` is `code`; `Null` for any other answer.
pub fn message_if<'a>(body: &'a Value, code: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    if body["error"] == code {
        &body["message"]
    } else {
        &NULL
    }
}
