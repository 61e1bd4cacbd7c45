//! Phase 2, Start (20–35 %): start the container unless it runs, then find its IPv4 address:
//! the static one from the configuration, or the one DHCP gave it, read from `/interfaces`.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use backend::models::ContainerRow;
use domain::container::Phase;
use domain::spec::Ipv4Config;
use pve_client::PveError;
use pve_client::lxc::GuestState;

use super::failure::{Failure, InfraExt};
use super::job::Job;

impl Job<'_> {
    pub(super) async fn start(&mut self) -> Result<(), Failure> {
        let (from, to) = Phase::Start.percent_range();
        self.step(Phase::Start, from, "Starting the container")
            .await?;
        let status = self
            .pve()
            .lxc_status(self.pve_node(), self.vmid())
            .await
            .map_err(|e| Failure::failed(format!("Cannot read the container's status: {e}")))?;
        if status.status == GuestState::Running {
            self.log("The container is already running.").await?;
        } else {
            let upid = self
                .pve()
                .lxc_start(self.pve_node(), self.vmid())
                .await
                .map_err(|e| {
                    Failure::failed(format!("Proxmox refused to start the container: {e}"))
                })?;
            self.wait_task(&upid, "Starting the container").await?;
        }
        self.ip = match self.spec.ipv4 {
            Ipv4Config::Static { cidr, .. } => Some(cidr.address().to_string()),
            Ipv4Config::Dhcp => {
                self.step(
                    Phase::Start,
                    (from + to) / 2,
                    "Waiting for an IPv4 address from DHCP",
                )
                .await?;
                self.dhcp_address(self.deps.settings.dhcp_timeout).await?
            }
        };
        match &self.ip {
            Some(ip) => self.log(&format!("IPv4 address: {ip}")).await?,
            None => {
                self.log(&format!(
                    "No IPv4 address from DHCP after {} s (is there a DHCP server on bridge {}?); \
                     deploying through the Proxmox node instead.",
                    self.deps.settings.dhcp_timeout.as_secs(),
                    self.spec.bridge
                ))
                .await?
            }
        }
        self.store_ip().await
    }

    /// Polls `/interfaces` until a non-loopback interface has a usable IPv4 address, or `wait`
    /// passes (`None`).
    pub(super) async fn dhcp_address(&self, wait: Duration) -> Result<Option<String>, Failure> {
        let deadline = Instant::now() + wait;
        loop {
            match self.container_addresses().await {
                Ok(addresses) => {
                    if let Some(address) = addresses.into_iter().find(|a| usable(*a)) {
                        return Ok(Some(address.to_string()));
                    }
                }
                Err(e) => tracing::debug!(error = %e, "interfaces not readable yet"),
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(self.deps.settings.dhcp_poll).await;
        }
    }

    /// Every IPv4 address of the container's non-loopback interfaces, from `/interfaces`.
    pub(super) async fn container_addresses(&self) -> Result<Vec<Ipv4Addr>, PveError> {
        let interfaces = self
            .pve()
            .lxc_interfaces(self.pve_node(), self.vmid())
            .await?;
        let mut addresses: Vec<Ipv4Addr> = Vec::new();
        for interface in interfaces.iter().filter(|i| !i.is_loopback()) {
            let listed = interface
                .ip_addresses
                .iter()
                .filter(|a| a.family == "inet")
                .map(|a| a.address.as_str());
            let inet = interface.inet.as_deref().and_then(|i| i.split('/').next());
            for text in listed.chain(inet) {
                if let Ok(address) = text.trim().parse::<Ipv4Addr>()
                    && !addresses.contains(&address)
                {
                    addresses.push(address);
                }
            }
        }
        Ok(addresses)
    }

    pub(super) async fn store_ip(&self) -> Result<(), Failure> {
        let mut conn = self.conn().await?;
        ContainerRow::set_ip_address(&mut conn, self.id, self.ip.as_deref())
            .await
            .infra("storing the IP address")
    }
}

/// Not a link-local, unspecified or broadcast address.
fn usable(address: Ipv4Addr) -> bool {
    !(address.is_link_local() || address.is_unspecified() || address.is_broadcast())
}

#[cfg(test)]
mod tests {
    use super::usable;

    #[test]
    fn link_local_addresses_are_skipped() {
        assert!(usable("192.168.1.20".parse().unwrap()));
        assert!(usable("127.77.0.5".parse().unwrap()));
        assert!(!usable("169.254.3.4".parse().unwrap()));
        assert!(!usable("0.0.0.0".parse().unwrap()));
    }
}
