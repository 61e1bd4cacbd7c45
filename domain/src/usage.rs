//! What a container's Proxmox node says about it right now: whether it runs, and what it uses.
//! The list and the container page show it, refreshed while they are open.

use crate::ContainerId;
use serde::{Deserialize, Serialize};

/// Resource use of a running container, as Proxmox reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Share of the container's CPU cores in use, 0.0 to 1.0.
    pub cpu: f64,
    /// How many cores the container may use.
    pub cpus: f64,
    /// Bytes of memory in use, and the limit.
    pub mem: u64,
    pub maxmem: u64,
    /// Bytes used on the root disk, and its size.
    pub disk: u64,
    pub maxdisk: u64,
    /// Seconds since the container started.
    pub uptime_secs: u64,
}

/// The node's view of one container.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NodeView {
    /// The first answer from the node is still on its way.
    Checking,
    Running(Usage),
    Stopped,
    /// No container with this VMID and hostname on the node: deleted (or replaced) outside
    /// infrahaus, or not created yet.
    Missing,
    /// The node did not answer in time or refused; `reason` says how.
    Unreachable {
        reason: String,
    },
}

impl NodeView {
    /// The word the pages show for it.
    pub fn label(&self) -> &'static str {
        match self {
            NodeView::Checking => "checking…",
            NodeView::Running(_) => "running",
            NodeView::Stopped => "stopped",
            NodeView::Missing => "missing on the node",
            NodeView::Unreachable { .. } => "node unreachable",
        }
    }

    /// A short stable name for tests and styles: `checking`, `running`, `stopped`, `missing`,
    /// `unreachable`.
    pub fn key(&self) -> &'static str {
        match self {
            NodeView::Checking => "checking",
            NodeView::Running(_) => "running",
            NodeView::Stopped => "stopped",
            NodeView::Missing => "missing",
            NodeView::Unreachable { .. } => "unreachable",
        }
    }

    pub fn usage(&self) -> Option<&Usage> {
        match self {
            NodeView::Running(usage) => Some(usage),
            _ => None,
        }
    }
}

/// One container's node view, as the live status calls return it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveStatus {
    pub id: ContainerId,
    pub view: NodeView,
}

impl Usage {
    /// CPU use in percent of the container's cores, e.g. `2.4 %`.
    pub fn cpu_text(&self) -> String {
        format!("{:.1} %", self.cpu * 100.0)
    }

    /// Memory in use of the limit, e.g. `52 MiB of 512 MiB`.
    pub fn mem_text(&self) -> String {
        format!("{} of {}", bytes_text(self.mem), bytes_text(self.maxmem))
    }

    /// Root disk used of its size, e.g. `1.2 GiB of 8.0 GiB`.
    pub fn disk_text(&self) -> String {
        format!("{} of {}", bytes_text(self.disk), bytes_text(self.maxdisk))
    }

    pub fn uptime_text(&self) -> String {
        uptime_text(self.uptime_secs)
    }
}

/// Bytes in binary units: `512 B`, `52 MiB`, `1.2 GiB` (one decimal from GiB up).
pub fn bytes_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = KIB * 1024;
    const GIB: u64 = MIB * 1024;
    const TIB: u64 = GIB * 1024;
    match bytes {
        b if b >= TIB => format!("{:.1} TiB", b as f64 / TIB as f64),
        b if b >= GIB => format!("{:.1} GiB", b as f64 / GIB as f64),
        b if b >= MIB => format!("{} MiB", b / MIB),
        b if b >= KIB => format!("{} KiB", b / KIB),
        b => format!("{b} B"),
    }
}

/// An uptime in its two largest units: `42 s`, `3 min 5 s`, `2 h 10 min`, `4 d 3 h`.
pub fn uptime_text(secs: u64) -> String {
    let (days, hours, minutes, seconds) =
        (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match () {
        () if days > 0 => format!("{days} d {hours} h"),
        () if hours > 0 => format!("{hours} h {minutes} min"),
        () if minutes > 0 => format!("{minutes} min {seconds} s"),
        () => format!("{seconds} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(bytes_text(512), "512 B");
        assert_eq!(bytes_text(52 * 1024 * 1024 + 5), "52 MiB");
        assert_eq!(bytes_text(8_589_934_592), "8.0 GiB");
        assert_eq!(bytes_text(1_288_490_189), "1.2 GiB");
        assert_eq!(uptime_text(42), "42 s");
        assert_eq!(uptime_text(185), "3 min 5 s");
        assert_eq!(uptime_text(7_800), "2 h 10 min");
        assert_eq!(uptime_text(4 * 86_400 + 3 * 3600 + 59), "4 d 3 h");
        let usage = Usage {
            cpu: 0.0243,
            cpus: 2.0,
            mem: 52 * 1024 * 1024,
            maxmem: 512 * 1024 * 1024,
            disk: 1_288_490_189,
            maxdisk: 8_589_934_592,
            uptime_secs: 3600,
        };
        assert_eq!(usage.cpu_text(), "2.4 %");
        assert_eq!(usage.mem_text(), "52 MiB of 512 MiB");
        assert_eq!(usage.disk_text(), "1.2 GiB of 8.0 GiB");
        assert_eq!(usage.uptime_text(), "1 h 0 min");
    }

    #[test]
    fn views_travel_as_tagged_json() {
        let view = NodeView::Unreachable {
            reason: "timed out".into(),
        };
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"state": "unreachable", "reason": "timed out"})
        );
        assert_eq!(serde_json::from_value::<NodeView>(json).unwrap(), view);
        let stopped = serde_json::to_value(NodeView::Stopped).unwrap();
        assert_eq!(stopped, serde_json::json!({"state": "stopped"}));
    }
}
