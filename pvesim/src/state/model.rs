//! The persisted model: containers and tasks.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Whether a container runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerState {
    Stopped,
    Running,
}

impl PowerState {
    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::Stopped => "stopped",
            PowerState::Running => "running",
        }
    }
}

/// A salted SHA-256 of the root password given at create.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordHash {
    pub salt: String,
    pub sha256: String,
}

impl PasswordHash {
    pub fn new(password: &str) -> Self {
        let salt = uuid::Uuid::new_v4().simple().to_string();
        let sha256 = Self::digest(&salt, password);
        Self { salt, sha256 }
    }

    fn digest(salt: &str, password: &str) -> String {
        hex::encode(
            Sha256::new()
                .chain_update(salt)
                .chain_update(b":")
                .chain_update(password)
                .finalize(),
        )
    }

    pub fn matches(&self, password: &str) -> bool {
        Self::digest(&self.salt, password) == self.sha256
    }
}

/// One LXC container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Container {
    pub vmid: u32,
    pub node: String,
    /// The container configuration as PVE keeps it in `<vmid>.conf` (values as text).
    pub config: BTreeMap<String, String>,
    pub status: PowerState,
    /// `create` while the create task runs, like PVE's config lock.
    pub lock: Option<String>,
    pub password: Option<PasswordHash>,
    /// `ssh-public-keys` of the create call, written to root's `authorized_keys` in the container
    /// (which the container's sshd reads; this list is not consulted after create).
    pub authorized_keys: Vec<String>,
    /// The ed25519 SSH host key generated at create (OpenSSH private key format); the sshd
    /// loads the copy in the container's `/etc/ssh/ssh_host_ed25519_key`.
    pub host_key: Option<String>,
    /// The address assigned from the simulator's pool, if any (kept for the container's life).
    pub pool_ip: Option<Ipv4Addr>,
    pub started_at: Option<i64>,
    /// Unix milliseconds after which a DHCP interface has its lease.
    pub lease_at_ms: Option<i64>,
    pub pid: Option<u32>,
}

impl Container {
    /// `hostname`, or `CT<vmid>` as PVE shows unnamed containers.
    pub fn name(&self) -> String {
        self.config
            .get("hostname")
            .cloned()
            .unwrap_or_else(|| format!("CT{}", self.vmid))
    }

    pub fn is_running(&self) -> bool {
        self.status == PowerState::Running
    }

    /// The config keys `net0`, `net1`, ... in index order.
    pub fn net_keys(&self) -> Vec<String> {
        let mut keys: Vec<(u32, String)> = self
            .config
            .keys()
            .filter_map(|k| {
                k.strip_prefix("net")
                    .and_then(|n| n.parse().ok())
                    .map(|n: u32| (n, k.clone()))
            })
            .collect();
        keys.sort();
        keys.into_iter().map(|(_, k)| k).collect()
    }

    /// A digest of the config (40 hex digits like PVE's SHA-1 digest; here a cut SHA-256).
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        for (k, v) in &self.config {
            hasher.update(format!("{k}: {v}\n"));
        }
        hex::encode(hasher.finalize())[..40].to_string()
    }
}

/// One task (a PVE worker).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub upid: String,
    pub node: String,
    pub pid: u32,
    pub pstart: u64,
    pub starttime: i64,
    pub task_type: String,
    pub id: String,
    /// `user@realm` or `user@realm!tokenid`.
    pub user: String,
    pub log: Vec<String>,
    /// `None` while running; `OK`, `WARNINGS: n` or the error text afterwards.
    pub exitstatus: Option<String>,
    pub endtime: Option<i64>,
}

impl Task {
    pub fn is_running(&self) -> bool {
        self.exitstatus.is_none()
    }
}
