//! The connection check behind `pve-check` and the settings page's "Test connection".
//!
//! Reading the version and the node list must work (otherwise the check fails with that
//! error); everything after that is collected into the report, failures as `problems`.

mod report;

use std::collections::BTreeMap;

pub use report::{
    BridgeSummary, NodeSummary, PreflightReport, PrivilegeCheck, StorageSummary, TemplateSummary,
};

use crate::client::PveClient;
use crate::error::PveError;
use crate::nodes::NodeInfo;
use crate::storage::ContentType;

/// Privileges on `/vms/{vmid}` that creating a container with the wizard's settings needs.
const VM_PRIVILEGES: [(&str, &str); 6] = [
    ("VM.Allocate", "to create the container"),
    ("VM.Config.Disk", "to give it a root disk"),
    ("VM.Config.CPU", "to set its CPU cores"),
    ("VM.Config.Memory", "to set its memory and swap"),
    ("VM.Config.Network", "to set its network, hostname and DNS"),
    ("VM.Config.Options", "to set onboot, description and tags"),
];

/// Checks what creating a container on `node` (default: the only or first online node) needs.
pub async fn preflight(
    client: &PveClient,
    node: Option<&str>,
) -> Result<PreflightReport, PveError> {
    let version = client.version().await?;
    let nodes = client.nodes().await?;
    let mut report = PreflightReport {
        pve_version: version.version.clone(),
        pve_release: version.release.clone(),
        nodes: nodes
            .iter()
            .map(|n| report::NodeSummary {
                name: n.node.clone(),
                online: n.is_online(),
            })
            .collect(),
        node: None,
        rootdir_storages: Vec::new(),
        templates: Vec::new(),
        bridges: Vec::new(),
        next_vmid: None,
        privileges: Vec::new(),
        problems: Vec::new(),
    };
    let Some(chosen) = choose_node(&nodes, node, &mut report.problems) else {
        return Ok(report);
    };
    report.node = Some(chosen.clone());

    let mut perms = PermissionCache::default();
    let sdn_checks = version.major().is_none_or(|m| m >= 8);

    match client.next_vmid().await {
        Ok(id) => report.next_vmid = Some(id),
        Err(e) => report
            .problems
            .push(format!("Could not get the next free VMID: {e}")),
    }
    let vm_path = report
        .next_vmid
        .map_or_else(|| "/vms".to_owned(), |id| format!("/vms/{id}"));
    for (privilege, purpose) in VM_PRIVILEGES {
        let granted = perms
            .has(client, &vm_path, privilege, &mut report.problems)
            .await;
        report.privileges.push(PrivilegeCheck {
            path: vm_path.clone(),
            privilege: privilege.into(),
            purpose: purpose.into(),
            granted,
            required: true,
        });
    }

    match client.storages(&chosen, Some(ContentType::RootDir)).await {
        Ok(list) => {
            for s in list
                .into_iter()
                .filter(|s| s.is_usable() && s.accepts(ContentType::RootDir))
            {
                let path = format!("/storage/{}", s.storage);
                let privilege = "Datastore.AllocateSpace";
                let can_allocate = perms
                    .has(client, &path, privilege, &mut report.problems)
                    .await;
                report.privileges.push(PrivilegeCheck {
                    path,
                    privilege: privilege.into(),
                    purpose: format!("to put root disks on storage '{}'", s.storage),
                    granted: can_allocate,
                    required: false,
                });
                report.rootdir_storages.push(StorageSummary {
                    name: s.storage,
                    kind: s.kind,
                    avail_bytes: s.avail,
                    can_allocate,
                });
            }
        }
        Err(e) => report.problems.push(format!(
            "Could not list the container storages on '{chosen}': {e}"
        )),
    }

    match client.storages(&chosen, Some(ContentType::Template)).await {
        Ok(list) => {
            for s in list
                .into_iter()
                .filter(|s| s.is_usable() && s.accepts(ContentType::Template))
            {
                match client.templates(&chosen, &s.storage).await {
                    Ok(volumes) => {
                        report
                            .templates
                            .extend(volumes.into_iter().map(|v| TemplateSummary {
                                storage: v.storage().to_owned(),
                                file_name: v.file_name().to_owned(),
                                size_bytes: v.size,
                                volid: v.volid,
                            }))
                    }
                    Err(e) => report.problems.push(format!(
                        "Could not list the templates on storage '{}': {e}",
                        s.storage
                    )),
                }
            }
        }
        Err(e) => report.problems.push(format!(
            "Could not list the template storages on '{chosen}': {e}"
        )),
    }

    match client.bridges(&chosen).await {
        Ok(list) => {
            for b in list {
                let can_use = if sdn_checks {
                    let path = format!("/sdn/zones/localnetwork/{}", b.iface);
                    let granted = perms
                        .has(client, &path, "SDN.Use", &mut report.problems)
                        .await;
                    report.privileges.push(PrivilegeCheck {
                        path,
                        privilege: "SDN.Use".into(),
                        purpose: format!("to attach containers to bridge '{}'", b.iface),
                        granted,
                        required: false,
                    });
                    granted
                } else {
                    true
                };
                report.bridges.push(BridgeSummary {
                    name: b.iface,
                    cidr: b.cidr,
                    can_use,
                });
            }
        }
        Err(e) => report.problems.push(format!(
            "Could not list the network bridges on '{chosen}': {e}"
        )),
    }

    let granted = perms
        .has(client, "/", "Sys.Modify", &mut report.problems)
        .await;
    report.privileges.push(PrivilegeCheck {
        path: "/".into(),
        privilege: "Sys.Modify".into(),
        purpose: "only for privileged containers (unprivileged=0)".into(),
        granted,
        required: false,
    });
    Ok(report)
}

fn choose_node(
    nodes: &[NodeInfo],
    wanted: Option<&str>,
    problems: &mut Vec<String>,
) -> Option<String> {
    let names = || {
        nodes
            .iter()
            .map(|n| n.node.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let pick = match wanted {
        Some(name) => match nodes.iter().find(|n| n.node == name) {
            Some(n) => n,
            None => {
                problems.push(format!(
                    "Node '{name}' is not part of this cluster (nodes: {}).",
                    names()
                ));
                return None;
            }
        },
        None => match nodes.iter().find(|n| n.is_online()).or(nodes.first()) {
            Some(n) => n,
            None => {
                problems.push("The server lists no nodes.".into());
                return None;
            }
        },
    };
    if !pick.is_online() {
        problems.push(format!("Node '{}' is offline.", pick.node));
        return None;
    }
    Some(pick.node.clone())
}

/// Effective privileges per path, each path asked once.
#[derive(Default)]
struct PermissionCache {
    paths: BTreeMap<String, Option<crate::access::Permissions>>,
}

impl PermissionCache {
    async fn has(
        &mut self,
        client: &PveClient,
        path: &str,
        privilege: &str,
        problems: &mut Vec<String>,
    ) -> bool {
        if !self.paths.contains_key(path) {
            let perms = match client.permissions(Some(path)).await {
                Ok(p) => Some(p),
                Err(e) => {
                    problems.push(format!("Could not read the privileges on {path}: {e}"));
                    None
                }
            };
            self.paths.insert(path.to_owned(), perms);
        }
        self.paths[path]
            .as_ref()
            .is_some_and(|p| p.has_any(path, privilege))
    }
}
