//! PVE 9 privilege names, built-in roles, and privilege sets.

use std::collections::BTreeSet;

/// Every privilege PVE 9 knows.
pub const ALL: &[&str] = &[
    "Datastore.Allocate",
    "Datastore.AllocateSpace",
    "Datastore.AllocateTemplate",
    "Datastore.Audit",
    "Group.Allocate",
    "Mapping.Audit",
    "Mapping.Modify",
    "Mapping.Use",
    "Permissions.Modify",
    "Pool.Allocate",
    "Pool.Audit",
    "Realm.Allocate",
    "Realm.AllocateUser",
    "SDN.Allocate",
    "SDN.Audit",
    "SDN.Use",
    "Sys.AccessNetwork",
    "Sys.Audit",
    "Sys.Console",
    "Sys.Incoming",
    "Sys.Modify",
    "Sys.PowerMgmt",
    "Sys.Syslog",
    "User.Modify",
    "VM.Allocate",
    "VM.Audit",
    "VM.Backup",
    "VM.Clone",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Console",
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.Unrestricted",
    "VM.Migrate",
    "VM.PowerMgmt",
    "VM.Replicate",
    "VM.Snapshot",
    "VM.Snapshot.Rollback",
];

/// The privileges of a built-in role, or `None` for an unknown name.
fn role(name: &str) -> Option<Vec<&'static str>> {
    let with_prefix = |p: &str| {
        ALL.iter()
            .copied()
            .filter(|x| x.starts_with(p))
            .collect::<Vec<_>>()
    };
    Some(match name {
        "Administrator" => ALL.to_vec(),
        "NoAccess" => Vec::new(),
        "PVEAuditor" => vec![
            "Datastore.Audit",
            "Mapping.Audit",
            "Pool.Audit",
            "SDN.Audit",
            "Sys.Audit",
            "VM.Audit",
            "VM.GuestAgent.Audit",
        ],
        "PVEVMAdmin" => with_prefix("VM."),
        "PVEVMUser" => vec![
            "VM.Audit",
            "VM.Backup",
            "VM.Config.CDROM",
            "VM.Config.Cloudinit",
            "VM.Console",
            "VM.PowerMgmt",
            "VM.GuestAgent.Audit",
            "VM.GuestAgent.Unrestricted",
        ],
        "PVEDatastoreUser" => vec!["Datastore.AllocateSpace", "Datastore.Audit"],
        "PVEDatastoreAdmin" => with_prefix("Datastore."),
        "PVESDNUser" => vec!["SDN.Audit", "SDN.Use"],
        "PVETemplateUser" => vec!["VM.Audit", "VM.Clone"],
        _ => return None,
    })
}

/// Expands a spec like `PVEVMAdmin+PVEDatastoreUser,SDN.Use` into privilege names.
pub fn resolve_spec(spec: &str) -> Result<Vec<String>, String> {
    let mut out = BTreeSet::new();
    for item in spec
        .split([',', '+', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if let Some(privs) = role(item) {
            out.extend(privs.into_iter().map(String::from));
        } else if ALL.contains(&item) {
            out.insert(item.to_string());
        } else {
            return Err(format!("unknown role or privilege '{item}'"));
        }
    }
    Ok(out.into_iter().collect())
}

/// A set of privileges, held everywhere (the simulator has no per-path ACLs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrivSet(BTreeSet<&'static str>);

impl PrivSet {
    pub fn all() -> Self {
        Self(ALL.iter().copied().collect())
    }

    pub fn from_names(names: &[String]) -> Self {
        Self(
            ALL.iter()
                .copied()
                .filter(|p| names.iter().any(|n| n == p))
                .collect(),
        )
    }

    pub fn has(&self, privilege: &str) -> bool {
        self.0.contains(privilege)
    }

    pub fn intersect(&self, other: &PrivSet) -> PrivSet {
        Self(self.0.intersection(&other.0).copied().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }

    /// The `cap` map of a ticket response: privileges grouped by top-level path.
    pub fn capabilities(&self) -> serde_json::Value {
        let groups: [(&str, &[&str]); 7] = [
            ("vms", &["VM.", "Permissions.Modify"]),
            ("storage", &["Datastore.", "Permissions.Modify"]),
            ("nodes", &["Sys.", "Permissions.Modify"]),
            (
                "access",
                &[
                    "User.Modify",
                    "Group.Allocate",
                    "Realm.",
                    "Permissions.Modify",
                ],
            ),
            ("sdn", &["SDN.", "Permissions.Modify"]),
            ("dc", &["Sys.Audit", "Sys.Modify", "SDN.", "Pool."]),
            ("mapping", &["Mapping.", "Permissions.Modify"]),
        ];
        let mut cap = serde_json::Map::new();
        for (group, prefixes) in groups {
            let entries: serde_json::Map<_, _> = self
                .iter()
                .filter(|p| prefixes.iter().any(|pre| p.starts_with(pre)))
                .map(|p| (p.to_string(), serde_json::json!(1)))
                .collect();
            cap.insert(group.to_string(), serde_json::Value::Object(entries));
        }
        serde_json::Value::Object(cap)
    }
}
