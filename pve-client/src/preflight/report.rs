//! The preflight report: plain data the CLI prints and the settings page shows.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A cluster node and whether it is online.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSummary {
    pub name: String,
    pub online: bool,
}

/// A storage that accepts container root disks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageSummary {
    pub name: String,
    /// Plugin type (`lvmthin`, `zfspool`, `dir`, ...).
    pub kind: String,
    pub avail_bytes: Option<u64>,
    /// The credentials hold `Datastore.AllocateSpace` on it.
    pub can_allocate: bool,
}

/// An OS template already on a storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSummary {
    /// What `ostemplate` takes: `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`.
    pub volid: String,
    pub storage: String,
    pub file_name: String,
    pub size_bytes: Option<u64>,
}

/// A bridge containers can attach to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeSummary {
    pub name: String,
    pub cidr: Option<String>,
    /// The credentials may attach guests to it (`SDN.Use`; always true before PVE 8).
    pub can_use: bool,
}

/// One privilege the preflight looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivilegeCheck {
    /// ACL path (`/vms/100`, `/storage/local-lvm`, `/`).
    pub path: String,
    /// Privilege name; `A|B` means either.
    pub privilege: String,
    /// What it is needed for, as a phrase ("to create the container").
    pub purpose: String,
    pub granted: bool,
    /// Creating any container needs it (storage and bridge checks are per item instead).
    pub required: bool,
}

/// What the preflight found out about a PVE server and the credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightReport {
    /// `version` from `/version` (`9.0.3`).
    pub pve_version: String,
    /// `release` from `/version` (`9.0`).
    pub pve_release: String,
    pub nodes: Vec<NodeSummary>,
    /// The node checked in detail.
    pub node: Option<String>,
    pub rootdir_storages: Vec<StorageSummary>,
    pub templates: Vec<TemplateSummary>,
    pub bridges: Vec<BridgeSummary>,
    pub next_vmid: Option<u32>,
    pub privileges: Vec<PrivilegeCheck>,
    /// Steps that failed, as sentences.
    pub problems: Vec<String>,
}

impl PreflightReport {
    /// True when nothing found stands in the way of creating a container.
    pub fn can_create(&self) -> bool {
        self.blockers().is_empty()
    }

    /// Why a container cannot be created yet, as sentences; empty when it can.
    pub fn blockers(&self) -> Vec<String> {
        let mut reasons = self.problems.clone();
        let Some(node) = &self.node else {
            if reasons.is_empty() {
                reasons.push("No online node was found to create containers on.".into());
            }
            return reasons;
        };
        for check in self.privileges.iter().filter(|c| c.required && !c.granted) {
            reasons.push(format!(
                "The credentials lack {} on {}, needed {}.",
                check.privilege, check.path, check.purpose
            ));
        }
        if self.rootdir_storages.is_empty() {
            reasons.push(format!(
                "Node '{node}' has no active storage that accepts container root disks \
                 (content type 'Container'); enable it on a storage under Datacenter > Storage."
            ));
        } else if !self.rootdir_storages.iter().any(|s| s.can_allocate) {
            reasons.push(
                "The credentials lack Datastore.AllocateSpace on every container storage; grant \
                 the PVEDatastoreUser role on one of them."
                    .into(),
            );
        }
        if self.templates.is_empty() {
            reasons.push(format!(
                "No container templates were found on node '{node}'; download one under \
                 local > CT Templates > Templates."
            ));
        }
        if self.bridges.is_empty() {
            reasons.push(format!("Node '{node}' has no network bridge (e.g. vmbr0)."));
        } else if !self.bridges.iter().any(|b| b.can_use) {
            reasons.push(
                "The credentials lack SDN.Use on every bridge; grant the PVESDNUser role on \
                 /sdn/zones/localnetwork."
                    .into(),
            );
        }
        if self.next_vmid.is_none() && self.problems.is_empty() {
            reasons.push("No free VMID could be found.".into());
        }
        reasons
    }

    /// Privileges the credentials lack, required or not.
    pub fn missing_privileges(&self) -> Vec<&PrivilegeCheck> {
        self.privileges.iter().filter(|c| !c.granted).collect()
    }
}

fn size_text(bytes: u64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    const MIB: f64 = 1024.0 * 1024.0;
    let b = bytes as f64;
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.1} MiB", b / MIB)
    }
}

impl fmt::Display for PreflightReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Proxmox VE {} (release {})",
            self.pve_version, self.pve_release
        )?;
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| {
                format!(
                    "{} ({})",
                    n.name,
                    if n.online { "online" } else { "offline" }
                )
            })
            .collect();
        writeln!(f, "Nodes: {}", nodes.join(", "))?;
        writeln!(
            f,
            "Checked node: {}",
            self.node.as_deref().unwrap_or("none")
        )?;
        match self.next_vmid {
            Some(id) => writeln!(f, "Next free VMID: {id}")?,
            None => writeln!(f, "Next free VMID: unknown")?,
        }
        writeln!(f, "Container storages (rootdir):")?;
        if self.rootdir_storages.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for s in &self.rootdir_storages {
            let free = s
                .avail_bytes
                .map(|b| format!(", {} free", size_text(b)))
                .unwrap_or_default();
            let perm = if s.can_allocate {
                ""
            } else {
                ", no Datastore.AllocateSpace"
            };
            writeln!(f, "  - {} ({}{free}{perm})", s.name, s.kind)?;
        }
        writeln!(f, "OS templates (vztmpl):")?;
        if self.templates.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for t in &self.templates {
            match t.size_bytes {
                Some(b) => writeln!(f, "  - {} ({})", t.volid, size_text(b))?,
                None => writeln!(f, "  - {}", t.volid)?,
            }
        }
        writeln!(f, "Bridges:")?;
        if self.bridges.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for b in &self.bridges {
            let cidr = b
                .cidr
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            let perm = if b.can_use { "" } else { " - no SDN.Use" };
            writeln!(f, "  - {}{cidr}{perm}", b.name)?;
        }
        let missing = self.missing_privileges();
        if missing.is_empty() {
            writeln!(f, "Privileges: all needed privileges are granted")?;
        } else {
            writeln!(f, "Missing privileges:")?;
            for c in missing {
                writeln!(f, "  - {} on {} ({})", c.privilege, c.path, c.purpose)?;
            }
        }
        if !self.problems.is_empty() {
            writeln!(f, "Problems:")?;
            for p in &self.problems {
                writeln!(f, "  - {p}")?;
            }
        }
        let blockers = self.blockers();
        if blockers.is_empty() {
            write!(f, "Result: ready to create containers.")
        } else {
            writeln!(f, "Result: cannot create containers yet:")?;
            let lines: Vec<String> = blockers.iter().map(|b| format!("  - {b}")).collect();
            write!(f, "{}", lines.join("\n"))
        }
    }
}
