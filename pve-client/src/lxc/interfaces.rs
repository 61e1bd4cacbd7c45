//! `GET /nodes/{node}/lxc/{vmid}/interfaces` (PVE 8.0+): addresses of a running container.
//!
//! Two shapes exist: PVE 8.0-8.3 send `name`, `hwaddr`, `inet`, `inet6`; PVE 8.4+ add
//! `hardware-address` and `ip-addresses` (`prefix` as string or number). A stopped container
//! answers `data: null`. `inet` is missing until DHCP has answered.

use serde::{Deserialize, Serialize};

use crate::client::PveClient;
use crate::decode::{NullableList, null_as_default, opt_number_or_string};
use crate::error::PveError;

/// One address from `ip-addresses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpAddress {
    #[serde(rename = "ip-address")]
    pub address: String,
    /// `inet` or `inet6`.
    #[serde(rename = "ip-address-type")]
    pub family: String,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub prefix: Option<u8>,
}

/// One interface inside a running container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtInterface {
    pub name: String,
    /// MAC address, lowercase (both shapes).
    #[serde(default)]
    pub hwaddr: Option<String>,
    /// MAC address again (PVE 8.4+ only).
    #[serde(rename = "hardware-address", default)]
    pub hardware_address: Option<String>,
    /// Last IPv4 address with prefix (`192.168.1.50/24`).
    #[serde(default)]
    pub inet: Option<String>,
    /// Last IPv6 address with prefix.
    #[serde(default)]
    pub inet6: Option<String>,
    #[serde(rename = "ip-addresses", default, deserialize_with = "null_as_default")]
    pub ip_addresses: Vec<IpAddress>,
}

impl CtInterface {
    /// The IPv4 address without prefix, from either shape.
    pub fn ipv4(&self) -> Option<&str> {
        self.ip_addresses
            .iter()
            .find(|a| a.family == "inet")
            .map(|a| a.address.as_str())
            .or_else(|| self.inet.as_deref().and_then(|i| i.split('/').next()))
            .filter(|a| !a.is_empty())
    }

    /// The MAC address from either shape.
    pub fn mac(&self) -> Option<&str> {
        self.hwaddr.as_deref().or(self.hardware_address.as_deref())
    }

    /// True for the loopback interface.
    pub fn is_loopback(&self) -> bool {
        self.name == "lo"
    }
}

impl PveClient {
    /// The container's interfaces; empty when it is stopped.
    pub async fn lxc_interfaces(
        &self,
        node: &str,
        vmid: u32,
    ) -> Result<Vec<CtInterface>, PveError> {
        let id = vmid.to_string();
        let list: NullableList<CtInterface> = self
            .get(&["nodes", node, "lxc", &id, "interfaces"], &[])
            .await?;
        Ok(list.0)
    }
}
