//! Cluster nodes: `GET /nodes` and `GET /nodes/{node}/status`.

use serde::{Deserialize, Serialize};

use crate::client::PveClient;
use crate::decode::{opt_number_or_string, vec_number_or_string};
use crate::error::PveError;

/// Whether a node answers the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    Online,
    Offline,
    #[serde(other)]
    Unknown,
}

/// One row of `GET /nodes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Node name, used in every `/nodes/{node}/...` path.
    pub node: String,
    pub status: NodeState,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub cpu: Option<f64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub maxcpu: Option<u32>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub mem: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub maxmem: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub uptime: Option<u64>,
    /// SHA-256 fingerprint of the node's certificate (`AA:BB:...`).
    #[serde(default)]
    pub ssl_fingerprint: Option<String>,
    /// Subscription level (`""` without one).
    #[serde(default)]
    pub level: Option<String>,
}

impl NodeInfo {
    /// True when the node is online.
    pub fn is_online(&self) -> bool {
        self.status == NodeState::Online
    }
}

/// Used/total counters in node status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub total: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub used: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub free: Option<u64>,
}

/// CPU model facts from node status (`mhz`, `hvm` arrive as strings).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CpuInfo {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub cpus: Option<u32>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub cores: Option<u32>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub sockets: Option<u32>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub mhz: Option<f64>,
}

/// `GET /nodes/{node}/status`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NodeStatus {
    /// `pve-manager/8.2.4/faa83925c9641325`.
    #[serde(default)]
    pub pveversion: Option<String>,
    #[serde(default)]
    pub kversion: Option<String>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub uptime: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub cpu: Option<f64>,
    /// 1, 5 and 15 minute load averages.
    #[serde(default, deserialize_with = "vec_number_or_string")]
    pub loadavg: Vec<f64>,
    #[serde(default)]
    pub memory: Option<Usage>,
    #[serde(default)]
    pub swap: Option<Usage>,
    #[serde(default)]
    pub rootfs: Option<Usage>,
    #[serde(default)]
    pub cpuinfo: Option<CpuInfo>,
}

impl PveClient {
    /// `GET /nodes`: every cluster node, sorted by name.
    pub async fn nodes(&self) -> Result<Vec<NodeInfo>, PveError> {
        let mut nodes: Vec<NodeInfo> = self.get(&["nodes"], &[]).await?;
        nodes.sort_by(|a, b| a.node.cmp(&b.node));
        Ok(nodes)
    }

    /// `GET /nodes/{node}/status`.
    pub async fn node_status(&self, node: &str) -> Result<NodeStatus, PveError> {
        self.get(&["nodes", node, "status"], &[]).await
    }
}
