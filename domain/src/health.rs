//! Service health: what a check of a ready container's discovered services found (each unit's
//! systemd state, whether its port is listening, a failed unit's last journal lines), and what
//! the container page shows of it.

use crate::text_enum;
use serde::{Deserialize, Serialize};

text_enum!(
    /// A service's systemd unit as `systemctl show` reports it (`ActiveState`, `LoadState`).
    UnitState {
        /// Running (or reloading).
        Active => "active",
        /// Starting up.
        Activating => "activating",
        /// Shutting down.
        Deactivating => "deactivating",
        /// Stopped cleanly, or never started.
        Inactive => "inactive",
        /// Stopped with an error: crashed, killed, or its start failed.
        Failed => "failed",
        /// There is no unit of that name: a listening process no unit accounts for.
        NoUnit => "no-unit",
        /// The state could not be read (the text says why in the report's problem).
        Unknown => "unknown",
    }
);

impl UnitState {
    /// From `systemctl show`'s `LoadState` and `ActiveState` values.
    pub fn from_systemd(load_state: &str, active_state: &str) -> UnitState {
        if load_state == "not-found" {
            return UnitState::NoUnit;
        }
        match active_state {
            "active" | "reloading" | "refreshing" => UnitState::Active,
            "activating" => UnitState::Activating,
            "deactivating" => UnitState::Deactivating,
            "inactive" | "maintenance" => UnitState::Inactive,
            "failed" => UnitState::Failed,
            _ => UnitState::Unknown,
        }
    }
}

text_enum!(
    /// Whether something in the container accepts TCP connections on a service's port.
    PortState {
        /// A socket listens on the port (`ss -tln` in the container lists it).
        Listening => "listening",
        /// Nothing listens on the port.
        Closed => "closed",
        /// The listening sockets could not be listed.
        Unknown => "unknown",
    }
);

text_enum!(
    /// How the check reached the container.
    CheckedVia {
        /// The container's own sshd, logged in with its own key, host key pinned.
        ContainerSsh => "container-ssh",
        /// `pct exec` through the Proxmox node's sshd (the container's sshd was not reachable).
        ProxmoxNode => "proxmox-node",
    }
);

/// One discovered service as the check found it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceHealth {
    /// The service's name as discovered (the unit without `.service`).
    pub name: String,
    pub port: Option<u16>,
    pub unit: UnitState,
    /// `None` for a service without a port.
    pub port_state: Option<PortState>,
    /// The unit's last journal lines, for a failed unit (oldest first).
    pub journal: Vec<String>,
}

/// The result of one check of a container's services.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    /// When the check ran, in seconds since the Unix epoch (the worker's clock).
    pub checked_at: i64,
    /// How the container was reached; `None` when it could not be.
    pub via: Option<CheckedVia>,
    /// Why the container's own sshd was not used, when the check went through the node.
    pub note: Option<String>,
    /// Why the check could not run (or not fully), in words for the user.
    pub problem: Option<String>,
    pub services: Vec<ServiceHealth>,
    /// How often a page that stays open asks for a new check, in seconds.
    pub refresh_secs: u32,
}

impl HealthReport {
    /// The health of the service called `name` listening on `port`.
    pub fn service(&self, name: &str, port: Option<u16>) -> Option<&ServiceHealth> {
        self.services
            .iter()
            .find(|s| s.name == name && s.port == port)
    }
}

/// What the container page shows: the last report, how old it is, and whether a check runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthView {
    pub report: Option<HealthReport>,
    /// Seconds since the report's check, by the server's clock when it answered.
    pub age_secs: Option<u64>,
    /// A check was asked for and no worker has answered it yet.
    pub checking: bool,
}

#[cfg(test)]
mod tests {
    use super::UnitState;

    #[test]
    fn unit_state_reads_systemd_values() {
        for (load, active, state) in [
            ("loaded", "active", UnitState::Active),
            ("loaded", "reloading", UnitState::Active),
            ("loaded", "failed", UnitState::Failed),
            ("loaded", "inactive", UnitState::Inactive),
            ("not-found", "inactive", UnitState::NoUnit),
            ("loaded", "", UnitState::Unknown),
        ] {
            assert_eq!(
                UnitState::from_systemd(load, active),
                state,
                "{load} {active}"
            );
        }
    }
}
