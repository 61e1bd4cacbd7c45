//! LXC containers: list, status and usage, config, power actions (start, shutdown, stop,
//! reboot), delete, create, interfaces.

mod create;
mod interfaces;
mod net;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use create::{CreateCt, CtFeatures, RootFs};
pub use interfaces::{CtInterface, IpAddress};
pub use net::{IpConfig, NetConfig};

use crate::client::PveClient;
use crate::decode::{bool_from_int, number_or_string, opt_bool_from_int, opt_number_or_string};
use crate::error::PveError;
use crate::form::FormBody;
use crate::tasks::Upid;

/// Run state of a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestState {
    Running,
    Stopped,
    #[serde(other)]
    Unknown,
}

/// One row of `GET /nodes/{node}/lxc` (`vmid` is a string before PVE 8.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CtSummary {
    #[serde(deserialize_with = "number_or_string")]
    pub vmid: u32,
    pub status: GuestState,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "bool_from_int")]
    pub template: bool,
    /// `;`-separated tags.
    #[serde(default)]
    pub tags: Option<String>,
    /// Set while locked (`create`, `backup`, ...).
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(flatten)]
    pub usage: CtUsage,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub pid: Option<u32>,
}

/// What a container uses, as `GET /nodes/{node}/lxc` and `status/current` report it (zeros
/// while it is stopped, but for the limits).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CtUsage {
    /// CPU cores it may use.
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub cpus: Option<f64>,
    /// Share of `cpus` in use (0.0 to 1.0).
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub cpu: Option<f64>,
    /// Bytes of memory in use, and the limit.
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub mem: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub maxmem: Option<u64>,
    /// Bytes used on the root disk, and its size.
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub disk: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub maxdisk: Option<u64>,
    /// Seconds since the container started.
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub uptime: Option<u64>,
}

/// HA state in `status/current`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HaStatus {
    #[serde(default, deserialize_with = "bool_from_int")]
    pub managed: bool,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
}

/// `GET /nodes/{node}/lxc/{vmid}/status/current`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CtStatus {
    #[serde(deserialize_with = "number_or_string")]
    pub vmid: u32,
    pub status: GuestState,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "bool_from_int")]
    pub template: bool,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(flatten)]
    pub usage: CtUsage,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub pid: Option<u32>,
    #[serde(default)]
    pub ha: HaStatus,
}

/// `GET /nodes/{node}/lxc/{vmid}/config`. Keys without a field (`mp0`, `net1`, `lxc`, ...)
/// stay in `other`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CtConfig {
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub cores: Option<u32>,
    /// MiB.
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub memory: Option<u64>,
    /// MiB.
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub swap: Option<u64>,
    /// `local-lvm:vm-100-disk-0,size=8G`.
    #[serde(default)]
    pub rootfs: Option<String>,
    /// `name=eth0,bridge=vmbr0,...`; see [`NetConfig::parse`].
    #[serde(default)]
    pub net0: Option<String>,
    #[serde(default)]
    pub nameserver: Option<String>,
    #[serde(default)]
    pub searchdomain: Option<String>,
    /// `nesting=1,keyctl=1`.
    #[serde(default)]
    pub features: Option<String>,
    /// Absent on old configs, where it means privileged.
    #[serde(default, deserialize_with = "opt_bool_from_int")]
    pub unprivileged: Option<bool>,
    #[serde(default, deserialize_with = "bool_from_int")]
    pub onboot: bool,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub ostype: Option<String>,
    #[serde(default)]
    pub arch: Option<String>,
    #[serde(default)]
    pub lock: Option<String>,
    /// SHA-1 of the config, for optimistic locking on updates.
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl CtConfig {
    /// The parsed `net0`, if present and well formed.
    pub fn net0(&self) -> Option<NetConfig> {
        self.net0.as_deref().and_then(|s| NetConfig::parse(s).ok())
    }
}

impl PveClient {
    /// `GET /nodes/{node}/lxc`: the node's containers, sorted by VMID.
    pub async fn lxc_list(&self, node: &str) -> Result<Vec<CtSummary>, PveError> {
        let mut list: Vec<CtSummary> = self.get(&["nodes", node, "lxc"], &[]).await?;
        list.sort_by_key(|c| c.vmid);
        Ok(list)
    }

    /// `GET /nodes/{node}/lxc/{vmid}/status/current`.
    pub async fn lxc_status(&self, node: &str, vmid: u32) -> Result<CtStatus, PveError> {
        let id = vmid.to_string();
        self.get(&["nodes", node, "lxc", &id, "status", "current"], &[])
            .await
    }

    /// `GET /nodes/{node}/lxc/{vmid}/config`.
    pub async fn lxc_config(&self, node: &str, vmid: u32) -> Result<CtConfig, PveError> {
        let id = vmid.to_string();
        self.get(&["nodes", node, "lxc", &id, "config"], &[]).await
    }

    /// `POST /nodes/{node}/lxc`: starts the create task.
    pub async fn lxc_create(&self, node: &str, params: &CreateCt) -> Result<Upid, PveError> {
        self.post(&["nodes", node, "lxc"], &params.to_form()).await
    }

    /// `POST .../status/start`.
    pub async fn lxc_start(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        self.power(node, vmid, "start").await
    }

    /// `POST .../status/shutdown`: clean shutdown from inside the container.
    pub async fn lxc_shutdown(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        self.power(node, vmid, "shutdown").await
    }

    /// `POST .../status/shutdown` with `timeout`: PVE waits up to `timeout_secs` for the
    /// container to stop, then the task fails with `container did not stop`, or, with
    /// `force_stop`, stops it.
    pub async fn lxc_shutdown_within(
        &self,
        node: &str,
        vmid: u32,
        timeout_secs: u32,
        force_stop: bool,
    ) -> Result<Upid, PveError> {
        let form = FormBody::new()
            .text("timeout", timeout_secs.to_string())
            .flag("forceStop", force_stop);
        self.power_with(node, vmid, "shutdown", &form).await
    }

    /// `POST .../status/stop`: immediate stop.
    pub async fn lxc_stop(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        self.power(node, vmid, "stop").await
    }

    /// `POST .../status/reboot`: a `vzreboot` task that shuts the container down (killing it
    /// after `timeout_secs`, PVE's default when `None`) and starts it again.
    pub async fn lxc_reboot(
        &self,
        node: &str,
        vmid: u32,
        timeout_secs: Option<u32>,
    ) -> Result<Upid, PveError> {
        let form = FormBody::new().opt_text("timeout", timeout_secs.map(|t| t.to_string()));
        self.power_with(node, vmid, "reboot", &form).await
    }

    async fn power(&self, node: &str, vmid: u32, action: &str) -> Result<Upid, PveError> {
        self.power_with(node, vmid, action, &FormBody::new()).await
    }

    async fn power_with(
        &self,
        node: &str,
        vmid: u32,
        action: &str,
        form: &FormBody,
    ) -> Result<Upid, PveError> {
        let id = vmid.to_string();
        self.post(&["nodes", node, "lxc", &id, "status", action], form)
            .await
    }

    /// `DELETE /nodes/{node}/lxc/{vmid}`; `purge` also removes it from backup and replication
    /// jobs and HA.
    pub async fn lxc_delete(&self, node: &str, vmid: u32, purge: bool) -> Result<Upid, PveError> {
        let id = vmid.to_string();
        let query: Vec<(&str, String)> = if purge {
            vec![("purge", "1".to_owned())]
        } else {
            Vec::new()
        };
        self.delete(&["nodes", node, "lxc", &id], &query).await
    }
}
