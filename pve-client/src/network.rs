//! Host network interfaces: `GET /nodes/{node}/network`, and the bridges containers can use.

use serde::{Deserialize, Serialize};

use crate::client::PveClient;
use crate::decode::{bool_from_int, null_as_default, opt_number_or_string, opt_string_or_number};
use crate::error::PveError;

/// One interface of a node (`/etc/network/interfaces` plus live state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkInterface {
    /// Interface name (`vmbr0`, `eno1.2`).
    pub iface: String,
    /// `bridge`, `OVSBridge`, `eth`, `vlan`, `bond`, ...
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, deserialize_with = "bool_from_int")]
    pub active: bool,
    #[serde(default, deserialize_with = "bool_from_int")]
    pub autostart: bool,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub cidr: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
    /// Prefix length or dotted mask; PVE sends `"24"`.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub netmask: Option<String>,
    #[serde(default)]
    pub bridge_ports: Option<String>,
    #[serde(default, deserialize_with = "bool_from_int")]
    pub bridge_vlan_aware: bool,
    #[serde(rename = "vlan-id", default, deserialize_with = "opt_number_or_string")]
    pub vlan_id: Option<u16>,
    #[serde(default)]
    pub comments: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub families: Vec<String>,
}

impl NetworkInterface {
    /// True for interfaces a container's `bridge=` may name.
    pub fn is_bridge(&self) -> bool {
        matches!(self.kind.as_str(), "bridge" | "OVSBridge")
    }
}

impl PveClient {
    /// `GET /nodes/{node}/network`: every interface, sorted by name.
    pub async fn network(&self, node: &str) -> Result<Vec<NetworkInterface>, PveError> {
        let mut list: Vec<NetworkInterface> = self.get(&["nodes", node, "network"], &[]).await?;
        list.sort_by(|a, b| a.iface.cmp(&b.iface));
        Ok(list)
    }

    /// The Linux and OVS bridges of a node, sorted by name.
    pub async fn bridges(&self, node: &str) -> Result<Vec<NetworkInterface>, PveError> {
        let mut list = self.network(node).await?;
        list.retain(NetworkInterface::is_bridge);
        Ok(list)
    }
}
