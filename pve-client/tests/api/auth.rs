//! Token and ticket authentication, CSRF, ticket renewal, and keeping secrets out of logs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pve_client::{PveClient, PveError};
use serde_json::json;

use crate::common::{MockPve, Recorded, Reply, captured_logs, password, token};

/// A pveproxy-like auth layer: one valid ticket at a time.
#[derive(Default)]
struct TicketServer {
    issued: Mutex<u32>,
    /// When set, the current ticket is treated as expired.
    revoked: Mutex<bool>,
}

impl TicketServer {
    fn ticket(n: u32) -> String {
        format!("PVE:alice@pve:6600000{n}::c2lnbmF0dXJl+/{n}=")
    }

    fn csrf(n: u32) -> String {
        format!("6600000{n}:Y3NyZi10b2tlbi1{n}")
    }

    fn answer(&self, req: &Recorded) -> Reply {
        let current = *self.issued.lock().unwrap();
        if req.path == "/access/ticket" {
            let pw = req.form.get("password").map(String::as_str);
            let renewing = current > 0 && pw == Some(Self::ticket(current).as_str());
            let ok = req.form.get("username").map(String::as_str) == Some("alice@pve")
                && (pw == Some("correct horse") || (renewing && !*self.revoked.lock().unwrap()));
            if !ok {
                return Reply::raw(
                    401,
                    Some("authentication failure"),
                    r#"{"data":null,"message":"authentication failure\n"}"#,
                );
            }
            let n = current + 1;
            *self.issued.lock().unwrap() = n;
            *self.revoked.lock().unwrap() = false;
            return Reply::data(json!({
                "username": "alice@pve",
                "ticket": Self::ticket(n),
                "CSRFPreventionToken": Self::csrf(n),
                "cap": {"vms": {"VM.Allocate": 1}}
            }));
        }
        let cookie = req.header("cookie").unwrap_or_default();
        let sent = cookie.strip_prefix("PVEAuthCookie=").map(|t| {
            percent_encoding::percent_decode_str(t)
                .decode_utf8_lossy()
                .into_owned()
        });
        if current == 0 || sent != Some(Self::ticket(current)) || *self.revoked.lock().unwrap() {
            return Reply::raw(401, Some("Authentication failed!"), "");
        }
        if req.method != "GET"
            && req.header("csrfpreventiontoken") != Some(Self::csrf(current).as_str())
        {
            return Reply::raw(401, Some("Permission denied - invalid csrf token"), "");
        }
        match req.path.as_str() {
            "/version" => {
                Reply::data(json!({"version": "9.0.3", "release": "9.0", "repoid": "abcdef12"}))
            }
            p if p.ends_with("/status/start") => {
                Reply::fixture("POST_nodes_node_lxc_vmid_status_start")
            }
            _ => Reply::raw(501, Some("not implemented"), ""),
        }
    }
}

async fn ticket_server() -> (MockPve, Arc<TicketServer>) {
    let auth = Arc::new(TicketServer::default());
    let a = auth.clone();
    (MockPve::start(move |r| a.answer(r)).await, auth)
}

#[tokio::test]
async fn token_header_on_every_call_and_no_csrf() {
    let server = MockPve::start(|r| match r.method.as_str() {
        "GET" => Reply::fixture("GET_version.pve9"),
        _ => Reply::fixture("POST_nodes_node_lxc_vmid_status_start"),
    })
    .await;
    let client = server.client(token());
    client.version().await.unwrap();
    client.lxc_start("pve", 100).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(
            r.header("authorization"),
            Some("PVEAPIToken=infra@pve!ci=0b7c7a0e-3f2a-4d5e-9c1b-aaaaaaaaaaaa")
        );
        assert_eq!(r.header("cookie"), None);
        assert_eq!(r.header("csrfpreventiontoken"), None);
    }
}

#[tokio::test]
async fn ticket_cookie_and_csrf_only_on_writes() {
    let (server, _auth) = ticket_server().await;
    let client = server.client(password());
    assert_eq!(client.version().await.unwrap().version, "9.0.3");
    client.lxc_start("pve", 100).await.unwrap();
    client.version().await.unwrap();

    let reqs = server.requests();
    let paths: Vec<_> = reqs
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("POST", "/access/ticket"),
            ("GET", "/version"),
            ("POST", "/nodes/pve/lxc/100/status/start"),
            ("GET", "/version")
        ]
    );
    let login = &reqs[0];
    assert_eq!(login.form["username"], "alice@pve");
    assert_eq!(login.form["password"], "correct horse");
    assert_eq!(login.header("cookie"), None);
    assert_eq!(login.header("authorization"), None);
    assert_eq!(reqs[1].header("csrfpreventiontoken"), None);
    assert_eq!(reqs[3].header("csrfpreventiontoken"), None);
    assert_eq!(
        reqs[2].header("csrfpreventiontoken"),
        Some(TicketServer::csrf(1).as_str())
    );
    assert!(
        reqs[1..]
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

#[tokio::test]
async fn ticket_is_renewed_with_the_old_ticket_once_old_enough() {
    let (server, auth) = ticket_server().await;
    let client = PveClient::builder(server.config(password()))
        .ticket_renew_after(Duration::ZERO)
        .build()
        .unwrap();
    client.version().await.unwrap();
    client.version().await.unwrap();
    let logins: Vec<Recorded> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/access/ticket")
        .collect();
    assert_eq!(logins.len(), 2);
    assert_eq!(logins[0].form["password"], "correct horse");
    assert_eq!(logins[1].form["password"], TicketServer::ticket(1));
    assert_eq!(*auth.issued.lock().unwrap(), 2);
    // The call after the renewal used the new ticket (the server accepts only the newest).
    let last = server.requests().pop().unwrap();
    assert_eq!(last.path, "/version");
}

#[tokio::test]
async fn rejected_ticket_leads_to_one_fresh_login_and_a_retry() {
    let (server, auth) = ticket_server().await;
    let client = server.client(password());
    client.version().await.unwrap();
    *auth.revoked.lock().unwrap() = true;
    client.lxc_start("pve", 100).await.unwrap();
    let paths: Vec<_> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/access/ticket",
            "/version",
            "/nodes/pve/lxc/100/status/start",
            "/access/ticket",
            "/nodes/pve/lxc/100/status/start"
        ]
    );
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_without_retry_loops() {
    let (server, _auth) = ticket_server().await;
    let client = server.client(pve_client::Auth::Password {
        username: "alice@pve".into(),
        password: "wrong".into(),
    });
    let err = client.version().await.unwrap_err();
    assert!(err.is_auth_failure(), "{err:?}");
    assert!(
        err.to_string()
            .contains("Proxmox rejected the credentials (authentication failure)")
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn spans_carry_call_facts_but_never_secrets() {
    let (server, _auth) = ticket_server().await;
    let client = PveClient::builder(server.config(password()))
        .ticket_renew_after(Duration::ZERO)
        .build()
        .unwrap();
    client.version().await.unwrap();
    client.lxc_start("pve", 100).await.unwrap();
    let _ = client.lxc_status("logtest", 4242).await;
    tracing::debug!(client = ?client, auth = ?password(), "debug of config types for logtest");
    let token_client = server.client(token());
    let _ = token_client.version().await;

    // The capture holds every test's logs: no test may leak these either.
    let text = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    let line_with = |needle: &str| text.lines().find(|l| l.contains(needle)).map(str::to_owned);
    let call = text
        .lines()
        .find(|l| {
            l.contains("pve_call{method=GET path=/nodes/logtest/lxc/4242/status/current")
                && l.contains("duration_ms=")
        })
        .expect("a finished span for the logtest call");
    assert!(
        call.contains("status=501") && call.contains("duration_ms="),
        "{call}"
    );
    let debug = line_with("debug of config types for logtest").unwrap();
    assert!(debug.contains(r#"password: "<redacted>""#), "{debug}");
    for secret in [
        "correct horse",
        "c2lnbmF0dXJl",
        "Y3NyZi10b2tlbi",
        "0b7c7a0e-3f2a-4d5e-9c1b-aaaaaaaaaaaa",
    ] {
        assert_eq!(line_with(secret), None, "{secret} leaked into the logs");
    }
}

#[tokio::test]
async fn invalid_credentials_shapes_fail_before_any_request() {
    let server = MockPve::start(|_| Reply::fixture("GET_version.pve9")).await;
    let err = PveClient::new(server.config(pve_client::Auth::Password {
        username: "root".into(),
        password: "x".into(),
    }))
    .unwrap_err();
    assert!(matches!(err, PveError::InvalidConfig(_)), "{err:?}");
    assert!(err.to_string().contains("root@pam"));
    assert!(server.requests().is_empty());
}
