//! The `net[n]` property string: `name=eth0,bridge=vmbr0,ip=dhcp,gw=...`.

use serde::{Deserialize, Serialize};

use crate::error::PveError;

/// How a container interface gets its IPv4 address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IpConfig {
    /// `ip=dhcp`.
    Dhcp,
    /// `ip=<address>/<prefix>`.
    Static(String),
    /// `ip=manual`.
    Manual,
}

/// One container network interface as PVE stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetConfig {
    /// Interface name inside the container (`eth0`).
    pub name: String,
    /// Host bridge (`vmbr0`).
    pub bridge: String,
    /// IPv4 setup; `None` leaves it out.
    pub ip: Option<IpConfig>,
    /// IPv4 gateway, only with a static address.
    pub gw: Option<String>,
    /// MAC address; PVE generates one (OUI BC:24:11) when absent.
    pub hwaddr: Option<String>,
    /// VLAN tag.
    pub tag: Option<u16>,
    /// Host firewall on this interface.
    pub firewall: bool,
}

impl NetConfig {
    /// `eth0` on `bridge` with DHCP.
    pub fn dhcp(bridge: impl Into<String>) -> Self {
        NetConfig {
            name: "eth0".into(),
            bridge: bridge.into(),
            ip: Some(IpConfig::Dhcp),
            gw: None,
            hwaddr: None,
            tag: None,
            firewall: false,
        }
    }

    /// `eth0` on `bridge` with a static CIDR address and optional gateway.
    pub fn static_ip(
        bridge: impl Into<String>,
        cidr: impl Into<String>,
        gw: Option<String>,
    ) -> Self {
        NetConfig {
            ip: Some(IpConfig::Static(cidr.into())),
            gw,
            ..Self::dhcp(bridge)
        }
    }

    /// The property string PVE expects.
    pub fn to_pve_string(&self) -> String {
        let mut parts = vec![
            format!("name={}", self.name),
            format!("bridge={}", self.bridge),
        ];
        match &self.ip {
            Some(IpConfig::Dhcp) => parts.push("ip=dhcp".into()),
            Some(IpConfig::Manual) => parts.push("ip=manual".into()),
            Some(IpConfig::Static(cidr)) => parts.push(format!("ip={cidr}")),
            None => {}
        }
        if let Some(gw) = &self.gw {
            parts.push(format!("gw={gw}"));
        }
        if let Some(hw) = &self.hwaddr {
            parts.push(format!("hwaddr={hw}"));
        }
        if let Some(tag) = self.tag {
            parts.push(format!("tag={tag}"));
        }
        if self.firewall {
            parts.push("firewall=1".into());
        }
        parts.join(",")
    }

    /// Parses a property string from a container config; unknown keys are ignored.
    pub fn parse(text: &str) -> Result<Self, PveError> {
        let mut net = NetConfig::dhcp(String::new());
        net.ip = None;
        net.name = String::new();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| PveError::Decode {
                message: format!("net property '{part}' has no value"),
            })?;
            match key {
                "name" => net.name = value.into(),
                "bridge" => net.bridge = value.into(),
                "ip" => {
                    net.ip = Some(match value {
                        "dhcp" => IpConfig::Dhcp,
                        "manual" => IpConfig::Manual,
                        cidr => IpConfig::Static(cidr.into()),
                    })
                }
                "gw" => net.gw = Some(value.into()),
                "hwaddr" => net.hwaddr = Some(value.into()),
                "tag" => net.tag = value.parse().ok(),
                "firewall" => net.firewall = value == "1",
                _ => {}
            }
        }
        Ok(net)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let text =
            "name=eth0,bridge=vmbr0,gw=10.1.1.1,hwaddr=FF:FF:FF:FF:FF:FF,ip=10.1.1.3/24,type=veth";
        let net = NetConfig::parse(text).unwrap();
        assert_eq!(net.ip, Some(IpConfig::Static("10.1.1.3/24".into())));
        assert_eq!(net.gw.as_deref(), Some("10.1.1.1"));
        assert_eq!(
            net.to_pve_string(),
            "name=eth0,bridge=vmbr0,ip=10.1.1.3/24,gw=10.1.1.1,hwaddr=FF:FF:FF:FF:FF:FF"
        );
        assert_eq!(
            NetConfig::dhcp("vmbr1").to_pve_string(),
            "name=eth0,bridge=vmbr1,ip=dhcp"
        );
    }
}
