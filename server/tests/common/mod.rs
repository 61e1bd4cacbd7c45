//! A real server for tests: the app's router on 127.0.0.1:0 with a fresh database and the test
//! Redis, and a cookie-keeping HTTP client to call it.
#![allow(dead_code)]

use app::ssr::ServerContext;
use backend::crypto::SecretBox;
use serde_json::Value;
use std::path::PathBuf;

pub struct TestApp {
    pub url: String,
    pub ctx: ServerContext,
    pub database_url: String,
}

/// Where the built SPA is (the test command builds it first).
pub fn site_root() -> PathBuf {
    let root = std::env::var("TEST_SITE_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"));
    assert!(
        root.join("index.html").exists(),
        "the SPA is not built at {}: run scripts/test.sh (it runs trunk build)",
        root.display()
    );
    root
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with_session(chrono::Duration::hours(1)).await
    }

    pub async fn start_with_session(session_lifetime: chrono::Duration) -> Self {
        let database_url = testkit::migrated_database().await;
        let ctx = ServerContext {
            db: backend::db::pool(&database_url, 8).unwrap(),
            redis: backend::redis::connect(&testkit::redis_url())
                .await
                .unwrap(),
            secrets: SecretBox::from_key(&[9u8; 32]),
            session_lifetime,
            secure_cookies: false,
        };
        let router = server::router(ctx.clone(), &site_root());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(server::serve(listener, router, std::future::pending()));
        Self {
            url,
            ctx,
            database_url,
        }
    }

    /// Creates a user with a unique name; returns the name.
    pub async fn user(&self, password: &str) -> String {
        let name = testkit::unique("user");
        let mut conn = self.ctx.db.get().await.unwrap();
        backend::accounts::create_user(&mut conn, &name, password)
            .await
            .unwrap();
        name
    }

    /// A client that keeps cookies and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
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

    /// A client logged in as a new user.
    pub async fn logged_in(&self) -> (reqwest::Client, String) {
        let name = self.user("correct horse battery").await;
        let client = self.client();
        let (status, body) = self
            .call(
                &client,
                "/api/login",
                serde_json::json!({"username": name, "password": "correct horse battery"}),
            )
            .await;
        assert_eq!(status, 200, "login failed: {body}");
        (client, name)
    }
}
