//! The shared simulator context every request handler, task and SSH session uses.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Accounts;
use crate::config::IpPool;
use crate::faults::Faults;
use crate::state::Store;

/// Shared state of one running simulator.
pub struct Sim {
    pub nodes: Vec<String>,
    pub store: Store,
    pub accounts: Accounts,
    pub faults: Mutex<Faults>,
    pub state_dir: PathBuf,
    pub fingerprint: String,
    pub ssh_port: u16,
    pub ip_pool: IpPool,
    pub auth_failure_delay: Duration,
    /// Cancels the SSH endpoint of each running container.
    pub endpoints: Mutex<HashMap<u32, CancellationToken>>,
    /// Fires when the simulator shuts down.
    pub cancel: CancellationToken,
    /// Background work (task workers, sessions) to wait for on shutdown.
    pub tracker: TaskTracker,
    /// Unix time the simulator "booted" (for uptimes and UPID pstart).
    pub boot_time: i64,
    /// How many API requests came for each `METHOD /path` (path after `/api2/json`).
    pub requests: Mutex<BTreeMap<String, u64>>,
}

impl Sim {
    pub fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    pub fn now_ms() -> i64 {
        chrono::Utc::now().timestamp_millis()
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn endpoints(&self) -> MutexGuard<'_, HashMap<u32, CancellationToken>> {
        self.endpoints.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one API request.
    pub fn count_request(&self, method: &str, path: &str) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *requests.entry(format!("{method} {path}")).or_default() += 1;
    }

    /// The request counts so far.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn is_node(&self, name: &str) -> bool {
        self.nodes.iter().any(|n| n == name)
    }

    pub fn uptime(&self) -> i64 {
        (Self::now() - self.boot_time).max(0)
    }

    /// `containers/<vmid>` in the state directory.
    pub fn container_dir(&self, vmid: u32) -> PathBuf {
        self.state_dir.join("containers").join(vmid.to_string())
    }

    /// The container's root filesystem.
    pub fn container_root(&self, vmid: u32) -> PathBuf {
        self.container_dir(vmid).join("rootfs")
    }

    /// The node's scratch filesystem.
    pub fn node_root(&self, node: &str) -> PathBuf {
        self.state_dir.join("nodes").join(node).join("root")
    }
}
