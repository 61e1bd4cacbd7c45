//! Starting and stopping a simulator; the handle tests and the binary hold.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api::error::ApiError;
use crate::auth::Accounts;
use crate::config::{SimConfig, TokenSpec, UserSpec};
use crate::error::SimError;
use crate::faults::{Faults, FaultsPatch};
use crate::sim::Sim;
use crate::state::Store;
use crate::{admin, api, lifecycle, sandbox, ssh, tls};

/// Entry point of the library.
pub struct Simulator;

impl Simulator {
    /// Starts the API, the node SSH endpoint and the containers that were running.
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        if !sandbox::bwrap_available() {
            return Err(SimError::BwrapMissing);
        }
        let (state_dir, tempdir) = match &config.state_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let dir = tempfile::Builder::new().prefix("pvesim-").tempdir()?;
                (dir.path().to_path_buf(), Some(dir))
            }
        };
        std::fs::create_dir_all(&state_dir).map_err(|source| SimError::StateDir {
            path: state_dir.clone(),
            source,
        })?;
        let tls = tls::load_or_create(&state_dir, &config.nodes, config.listen.ip())?;
        let ssh_port = match config.ssh_port {
            0 => free_port()?,
            port => port,
        };
        let cancel = CancellationToken::new();
        let sim = Arc::new(Sim {
            nodes: config.nodes.clone(),
            store: Store::open(&state_dir)?,
            accounts: Accounts::new(&config, ticket_key(&state_dir)?),
            faults: Mutex::new(config.faults.clone()),
            state_dir: state_dir.clone(),
            fingerprint: tls.fingerprint.clone(),
            ssh_port,
            ip_pool: config.ip_pool,
            auth_failure_delay: config.auth_failure_delay,
            endpoints: Mutex::new(Default::default()),
            cancel: cancel.clone(),
            tracker: TaskTracker::new(),
            boot_time: Sim::now(),
            requests: Mutex::new(Default::default()),
        });
        for node in &config.nodes {
            sandbox::create_node_root(&sim.node_root(node), node)?;
        }

        let tcp = TcpListener::bind(config.listen)
            .await
            .map_err(|source| SimError::Bind {
                what: "API",
                addr: config.listen.to_string(),
                source,
            })?;
        let api_addr = tcp.local_addr()?;
        let listener = tls::TlsListener::new(tcp, tls.acceptor.clone(), cancel.child_token())?;
        let app = api::router(sim.clone())
            .merge(admin::router(sim.clone(), config.faults.clone()))
            .fallback(|method: http::Method, uri: http::Uri| async move {
                ApiError::NotImplemented {
                    method: method.to_string(),
                    path: uri.path().to_string(),
                }
                .into_response()
            });
        let shutdown = cancel.clone();
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
            {
                tracing::error!(error = %e, "API server failed");
            }
        });

        let node_ssh = match config.node_ssh {
            Some(addr) => Some(
                ssh::node::start(
                    &sim,
                    &config.nodes[0],
                    addr,
                    &config.node_ssh_authorized_keys,
                )
                .await?,
            ),
            None => None,
        };
        lifecycle::recover(&sim).await;
        let host = match api_addr.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let base_url = format!("https://{host}:{}", api_addr.port());
        tracing::info!(%base_url, fingerprint = %tls.fingerprint, "pvesim started");
        Ok(SimHandle {
            api_url: format!("{base_url}/api2/json"),
            base_url,
            api_addr,
            fingerprint: tls.fingerprint,
            cert_pem: tls.cert_pem,
            node_ssh_addr: node_ssh.as_ref().map(|(addr, _)| *addr),
            node_ssh_host_key: node_ssh.as_ref().map(|(_, key)| key.public_openssh()),
            ssh_port,
            state_dir,
            nodes: config.nodes.clone(),
            users: config.users.clone(),
            tokens: config.tokens.clone(),
            sim,
            server: Some(server),
            _tempdir: tempdir,
        })
    }
}

/// A free TCP port on 127.0.0.1 (used for every container's SSH server).
fn free_port() -> Result<u16, SimError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The ticket signing key, kept in `authkey.key` so tickets survive restarts.
fn ticket_key(dir: &Path) -> Result<[u8; 32], SimError> {
    let path = dir.join("authkey.key");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(bytes) = hex::decode(text.trim())
        && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
    {
        return Ok(key);
    }
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    std::fs::write(&path, hex::encode(key))?;
    Ok(key)
}

/// A running simulator. Dropping it stops everything; [`SimHandle::shutdown`] also waits.
pub struct SimHandle {
    /// `https://HOST:PORT/api2/json`
    pub api_url: String,
    /// `https://HOST:PORT` (the admin endpoint is `{base_url}/_sim/faults`).
    pub base_url: String,
    pub api_addr: SocketAddr,
    /// SHA-256 fingerprint of the API certificate (`AA:BB:...`).
    pub fingerprint: String,
    /// The API certificate (PEM), to trust it in a client.
    pub cert_pem: String,
    /// The node's SSH endpoint (`pct exec`/`pct push`), if enabled.
    pub node_ssh_addr: Option<SocketAddr>,
    /// The node's SSH host key (`ssh-ed25519 AAAA...`).
    pub node_ssh_host_key: Option<String>,
    /// The port every container's SSH server listens on.
    pub ssh_port: u16,
    pub state_dir: PathBuf,
    pub nodes: Vec<String>,
    pub users: Vec<UserSpec>,
    pub tokens: Vec<TokenSpec>,
    sim: Arc<Sim>,
    server: Option<JoinHandle<()>>,
    _tempdir: Option<tempfile::TempDir>,
}

impl SimHandle {
    /// Stops the API and SSH servers, kills running commands and waits for background work.
    /// Containers that were running stay marked running for the next start.
    pub async fn shutdown(mut self) {
        self.sim.cancel.cancel();
        self.sim.tracker.close();
        if tokio::time::timeout(lifecycle::SHUTDOWN_GRACE, self.sim.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("background work did not finish in time");
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
    }

    pub fn faults(&self) -> Faults {
        self.sim.faults().clone()
    }

    /// Merges a fault patch (same as `POST /_sim/faults`) and returns the result.
    pub fn update_faults(&self, patch: FaultsPatch) -> Faults {
        let mut faults = self.sim.faults();
        faults.apply(patch);
        faults.clone()
    }

    /// The container's SSH host public key (`ssh-ed25519 AAAA...`), once created.
    pub fn container_host_key(&self, vmid: u32) -> Option<String> {
        crate::ssh::container::host_key(&self.sim, vmid)
            .ok()
            .map(|k| k.public_openssh())
    }

    /// How many API requests the simulator answered for `method` and `path` (the part after
    /// `/api2/json`, e.g. `GET /nodes/pve/lxc`), whatever their outcome.
    pub fn request_count(&self, method: &str, path: &str) -> u64 {
        self.sim
            .request_counts()
            .get(&format!("{method} {path}"))
            .copied()
            .unwrap_or(0)
    }

    /// The container's root directory on the host.
    pub fn container_root(&self, vmid: u32) -> PathBuf {
        self.sim.container_root(vmid)
    }

    /// Where the container's SSH server listens, while it runs.
    pub fn container_ssh_addr(&self, vmid: u32) -> Option<SocketAddr> {
        let running = self
            .sim
            .store
            .read(|s| s.containers.get(&vmid).map(|c| c.is_running()))?;
        if !running {
            return None;
        }
        let ct = self.sim.store.read(|s| s.containers.get(&vmid).cloned())?;
        let ip = lifecycle::addresses::loopback_static(&ct).or(ct.pool_ip)?;
        Some(SocketAddr::from((ip, self.ssh_port)))
    }

    /// The node's scratch filesystem on the host.
    pub fn node_root(&self, node: &str) -> PathBuf {
        self.sim.node_root(node)
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.sim.cancel.cancel();
    }
}
