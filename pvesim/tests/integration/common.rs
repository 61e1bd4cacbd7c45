//! Helpers shared by the integration tests: starting a simulator, a small API client that
//! trusts only the simulator's certificate, and waiting for tasks.

use std::time::Duration;

use pvesim::{SimConfig, SimConfigBuilder, SimHandle, Simulator};
use reqwest::Method;
use serde_json::Value;

pub const TOKEN_ID: &str = "root@pam!ci";
pub const TOKEN_SECRET: &str = "5f0c2a0e-7c39-4e43-9d67-1b3c6f1f0a11";
pub const ROOT_PASSWORD: &str = "rootpass";
pub const DEBIAN: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

/// The default test configuration: root@pam with a password, one token.
pub fn builder() -> SimConfigBuilder {
    SimConfig::builder()
        .user("root@pam", ROOT_PASSWORD)
        .token(TOKEN_ID, TOKEN_SECRET)
}

pub async fn start(config: SimConfig) -> SimHandle {
    Simulator::start(config)
        .await
        .expect("simulator starts (is bubblewrap installed? apt-get install bubblewrap)")
}

/// How a request authenticates.
#[derive(Clone)]
pub enum Auth {
    None,
    Token(String),
    Ticket {
        ticket: String,
        csrf: Option<String>,
    },
}

/// A decoded reply.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// The HTTP reason phrase (hyper keeps it when it is not the canonical one).
    pub reason: String,
    pub body: String,
    pub json: Value,
}

impl Reply {
    pub fn data(&self) -> &Value {
        &self.json["data"]
    }
}

/// An HTTPS client that trusts only the simulator's certificate, on the ring provider (the
/// workspace's one crypto provider; reqwest is built without one of its own).
pub fn https_client(sim: &SimHandle) -> reqwest::Client {
    pve_client::tls::install_default_provider();
    let cert =
        reqwest::Certificate::from_pem(sim.cert_pem.as_bytes()).expect("simulator certificate");
    reqwest::Client::builder()
        .tls_certs_only([cert])
        .build()
        .expect("client")
}

/// An API client for one simulator.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    pub api_url: String,
    pub base_url: String,
    pub auth: Auth,
}

impl Api {
    pub fn new(sim: &SimHandle, auth: Auth) -> Self {
        Self {
            client: https_client(sim),
            api_url: sim.api_url.clone(),
            base_url: sim.base_url.clone(),
            auth,
        }
    }

    pub fn token(sim: &SimHandle) -> Self {
        Self::new(
            sim,
            Auth::Token(format!("PVEAPIToken={TOKEN_ID}={TOKEN_SECRET}")),
        )
    }

    pub fn with_auth(&self, auth: Auth) -> Self {
        Self {
            auth,
            ..self.clone()
        }
    }

    /// Logs in with a password and returns a ticket-authenticated client.
    pub async fn login(sim: &SimHandle, user: &str, password: &str) -> Self {
        let anon = Self::new(sim, Auth::None);
        let reply = anon
            .post(
                "/access/ticket",
                &[("username", user), ("password", password)],
            )
            .await;
        assert_eq!(reply.status, 200, "login failed: {}", reply.body);
        let data = reply.data();
        anon.with_auth(Auth::Ticket {
            ticket: data["ticket"].as_str().expect("ticket").to_string(),
            csrf: Some(
                data["CSRFPreventionToken"]
                    .as_str()
                    .expect("csrf")
                    .to_string(),
            ),
        })
    }

    fn request(&self, method: Method, url: String) -> reqwest::RequestBuilder {
        let req = self.client.request(method.clone(), url);
        match &self.auth {
            Auth::None => req,
            Auth::Token(header) => req.header("Authorization", header),
            Auth::Ticket { ticket, csrf } => {
                let req = req.header("Cookie", format!("PVEAuthCookie={ticket}"));
                match csrf {
                    Some(csrf) if method != Method::GET => req.header("CSRFPreventionToken", csrf),
                    _ => req,
                }
            }
        }
    }

    async fn send(req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .unwrap_or_else(|| {
                resp.status()
                    .canonical_reason()
                    .unwrap_or_default()
                    .to_string()
            });
        let body = resp.text().await.expect("body");
        let json = serde_json::from_str(&body).unwrap_or(Value::Null);
        Reply {
            status,
            reason,
            body,
            json,
        }
    }

    fn encode(params: &[(&str, &str)]) -> String {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            ser.append_pair(k, v);
        }
        ser.finish()
    }

    /// A call with `params` in the query (GET/DELETE) or as a form body (POST/PUT).
    pub async fn call(&self, method: Method, path: &str, params: &[(&str, &str)]) -> Reply {
        let encoded = Self::encode(params);
        let url = format!("{}{path}", self.api_url);
        let req = if method == Method::GET || method == Method::DELETE {
            let url = if encoded.is_empty() {
                url
            } else {
                format!("{url}?{encoded}")
            };
            self.request(method, url)
        } else {
            self.request(method, url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(encoded)
        };
        Self::send(req).await
    }

    pub async fn call_json(&self, method: Method, path: &str, body: &Value) -> Reply {
        let req = self
            .request(method, format!("{}{path}", self.api_url))
            .json(body);
        Self::send(req).await
    }

    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> Reply {
        self.call(Method::GET, path, params).await
    }

    pub async fn post(&self, path: &str, params: &[(&str, &str)]) -> Reply {
        self.call(Method::POST, path, params).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, &[]).await
    }

    /// `POST /_sim/faults`.
    pub async fn faults(&self, patch: &Value) -> Value {
        let resp = self
            .client
            .post(format!("{}/_sim/faults", self.base_url))
            .json(patch)
            .send()
            .await
            .expect("faults");
        assert!(resp.status().is_success());
        resp.json().await.expect("faults json")
    }

    /// Polls a task until it stops; returns its final status object.
    pub async fn wait_task(&self, node: &str, upid: &str) -> Value {
        let path = format!("/nodes/{node}/tasks/{}/status", encode_segment(upid));
        for _ in 0..300 {
            let reply = self.get(&path, &[]).await;
            assert_eq!(reply.status, 200, "task status: {}", reply.body);
            if reply.data()["status"] == "stopped" {
                return reply.data().clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("task {upid} did not finish");
    }

    pub async fn task_log(&self, node: &str, upid: &str) -> Vec<String> {
        let reply = self
            .get(
                &format!("/nodes/{node}/tasks/{}/log", encode_segment(upid)),
                &[("limit", "500")],
            )
            .await;
        reply
            .data()
            .as_array()
            .expect("log")
            .iter()
            .map(|l| l["t"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Creates a container and waits for the task to succeed; returns the create UPID.
    pub async fn create_ct(&self, vmid: u32, extra: &[(&str, &str)]) -> String {
        let vmid = vmid.to_string();
        let mut params = vec![
            ("vmid", vmid.as_str()),
            ("ostemplate", DEBIAN),
            ("rootfs", "local-lvm:8"),
        ];
        params.extend_from_slice(extra);
        let reply = self.post("/nodes/pve/lxc", &params).await;
        assert_eq!(reply.status, 200, "create: {}", reply.body);
        let upid = reply.data().as_str().expect("upid").to_string();
        let status = self.wait_task("pve", &upid).await;
        assert_eq!(status["exitstatus"], "OK", "create task: {status}");
        upid
    }

    /// Runs a power action (`start`, `stop`, `shutdown`) and waits for `OK`.
    pub async fn power(&self, vmid: u32, action: &str) {
        let reply = self
            .post(&format!("/nodes/pve/lxc/{vmid}/status/{action}"), &[])
            .await;
        assert_eq!(reply.status, 200, "{action}: {}", reply.body);
        let status = self
            .wait_task("pve", reply.data().as_str().expect("upid"))
            .await;
        assert_eq!(status["exitstatus"], "OK", "{action} task: {status}");
    }
}

/// Percent-encodes a path segment (UPIDs contain `:` `@` `!`).
pub fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `SHA256:...` host key fingerprint from a vzcreate log.
pub fn fingerprint_from_log(log: &[String]) -> String {
    log.iter()
        .find_map(|l| {
            l.strip_prefix("done: ")
                .and_then(|rest| rest.split_whitespace().next())
        })
        .expect("host key line in the create log")
        .to_string()
}

/// Generates an ed25519 key with ssh-keygen into `dir`; returns (private key path, public line).
pub fn ssh_keygen(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, String) {
    let path = dir.join(name);
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen runs (apt-get install openssh-client)");
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).expect("public key");
    (path, public.trim().to_string())
}
