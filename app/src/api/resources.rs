//! What a node offers the wizard's Configure step: root-disk storages, OS templates, bridges and
//! the next free VMID, and whether a chosen VMID is free. Asked of the node each time; an
//! unreachable node is an [`AppError::Unavailable`] whose text says what failed.

use crate::error::AppError;
use domain::NodeId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A storage that accepts container root disks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageChoice {
    pub name: String,
    /// The storage plugin (`dir`, `lvmthin`, `zfspool` …).
    pub kind: String,
    pub avail_bytes: Option<u64>,
}

/// A network bridge a container can be attached to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeChoice {
    pub name: String,
    /// The bridge's own address, a hint for the container's subnet.
    pub cidr: Option<String>,
}

/// The node's lists for the Configure step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeResources {
    /// The node's name inside Proxmox.
    pub pve_node: String,
    pub storages: Vec<StorageChoice>,
    /// OS template volume ids (`local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`).
    pub os_templates: Vec<String>,
    pub bridges: Vec<BridgeChoice>,
    /// The lowest VMID free on the node and not held by a container infrahaus is creating.
    pub next_vmid: u32,
}

/// Whether a VMID can be used; `reason` says who holds it when it cannot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmidStatus {
    pub vmid: u32,
    pub free: bool,
    pub reason: Option<String>,
}

/// Storages, OS templates, bridges and the next free VMID of a node.
#[server(endpoint = "resources/node", input = server_fn::codec::Json)]
pub async fn get_node_resources(node_id: NodeId) -> Result<NodeResources, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    let node = on_node::connect(&ctx, node_id).await?;
    node.resources(&ctx).await
}

/// Whether `vmid` is free on the node and not held by a container infrahaus is creating there.
#[server(endpoint = "resources/vmid", input = server_fn::codec::Json)]
pub async fn check_vmid(node_id: NodeId, vmid: u32) -> Result<VmidStatus, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    domain::spec::vmid(vmid).map_err(|m| AppError::field("vmid", m))?;
    let node = on_node::connect(&ctx, node_id).await?;
    let reason = node.vmid_taken(&ctx, vmid).await?;
    Ok(VmidStatus {
        vmid,
        free: reason.is_none(),
        reason,
    })
}

/// Talking to one stored node on behalf of the wizard and the create call.
#[cfg(feature = "ssr")]
pub(crate) mod on_node {
    use super::{BridgeChoice, NodeResources, StorageChoice};
    use crate::error::AppError;
    use crate::ssr::ServerContext;
    use backend::models::NodeRow;
    use backend::pve::PveClient;
    use backend::pve::cluster::VmidAvailability;
    use backend::pve::storage::ContentType;
    use domain::NodeId;

    /// How many VMIDs past PVE's next free one are tried when ours hold the first.
    const VMID_SEARCH: u32 = 64;

    /// A stored node with a client for it and its name inside Proxmox.
    pub struct OnNode {
        pub row: NodeRow,
        pub client: PveClient,
        pub pve_node: String,
    }

    /// Loads the node and finds its Proxmox name: the one with the node's name, or the only one.
    pub async fn connect(ctx: &ServerContext, node_id: NodeId) -> Result<OnNode, AppError> {
        let mut conn = ctx.conn().await?;
        let row = match NodeRow::find(&mut conn, node_id).await {
            Err(diesel::result::Error::NotFound) => {
                return Err(AppError::field(
                    "node_id",
                    "This node is no longer registered. Choose another one.",
                ));
            }
            other => other?,
        };
        drop(conn);
        let client = backend::proxmox::client_for_row(&row, &ctx.secrets).map_err(|e| {
            tracing::warn!(node = %row.name, error = %e, "node settings unusable");
            AppError::Unavailable(format!(
                "The settings of node '{}' cannot be used: {e}",
                row.name
            ))
        })?;
        let nodes = client
            .nodes()
            .await
            .map_err(|e| unreachable_node(&row.name, e))?;
        let found = nodes
            .iter()
            .find(|n| n.node == row.name)
            .or(match nodes.as_slice() {
                [only] => Some(only),
                _ => None,
            });
        let Some(found) = found else {
            let names: Vec<&str> = nodes.iter().map(|n| n.node.as_str()).collect();
            return Err(AppError::Unavailable(format!(
                "The Proxmox cluster has the nodes {}, none named '{}'. Rename the node in \
                 Settings to its Proxmox name.",
                names.join(", "),
                row.name
            )));
        };
        if !found.is_online() {
            return Err(AppError::Unavailable(format!(
                "Proxmox reports node '{}' as offline.",
                found.node
            )));
        }
        let pve_node = found.node.clone();
        Ok(OnNode {
            row,
            client,
            pve_node,
        })
    }

    /// A Proxmox failure as the wizard shows it, naming the node.
    pub fn unreachable_node(name: &str, err: backend::pve::PveError) -> AppError {
        tracing::info!(node = %name, error = %err, "Proxmox call failed");
        AppError::Unavailable(format!("Cannot reach Proxmox node '{name}': {err}"))
    }

    impl OnNode {
        fn fail(&self, err: backend::pve::PveError) -> AppError {
            unreachable_node(&self.row.name, err)
        }

        /// Why `vmid` cannot be used, or `None` when it is free.
        pub async fn vmid_taken(
            &self,
            ctx: &ServerContext,
            vmid: u32,
        ) -> Result<Option<String>, AppError> {
            let mut conn = ctx.conn().await?;
            if backend::creation::vmid_held(&mut conn, self.row.id, vmid).await? {
                return Ok(Some(format!(
                    "VMID {vmid} is taken by a container infrahaus is creating on this node."
                )));
            }
            drop(conn);
            match self.client.check_vmid(vmid).await {
                Ok(VmidAvailability::Free) => Ok(None),
                Ok(VmidAvailability::Taken { .. }) => Ok(Some(format!(
                    "VMID {vmid} is already used on node '{}'. Choose another.",
                    self.row.name
                ))),
                Err(e) => Err(self.fail(e)),
            }
        }

        /// The node's lists for the Configure step.
        pub async fn resources(&self, ctx: &ServerContext) -> Result<NodeResources, AppError> {
            let node = self.pve_node.as_str();
            let (rootdir, template_stores, bridges, next) = tokio::join!(
                self.client.storages(node, Some(ContentType::RootDir)),
                self.client.storages(node, Some(ContentType::Template)),
                self.client.bridges(node),
                self.client.next_vmid(),
            );
            let storages = rootdir
                .map_err(|e| self.fail(e))?
                .into_iter()
                .filter(|s| s.is_usable() && s.accepts(ContentType::RootDir))
                .map(|s| StorageChoice {
                    name: s.storage,
                    kind: s.kind,
                    avail_bytes: s.avail,
                })
                .collect();
            let mut os_templates = Vec::new();
            for store in template_stores
                .map_err(|e| self.fail(e))?
                .into_iter()
                .filter(|s| s.is_usable() && s.accepts(ContentType::Template))
            {
                let volumes = self
                    .client
                    .templates(node, &store.storage)
                    .await
                    .map_err(|e| self.fail(e))?;
                os_templates.extend(volumes.into_iter().map(|v| v.volid));
            }
            let bridges = bridges
                .map_err(|e| self.fail(e))?
                .into_iter()
                .map(|b| BridgeChoice {
                    name: b.iface,
                    cidr: b.cidr,
                })
                .collect();
            let next_vmid = self
                .next_free_vmid(ctx, next.map_err(|e| self.fail(e))?)
                .await?;
            Ok(NodeResources {
                pve_node: self.pve_node.clone(),
                storages,
                os_templates,
                bridges,
                next_vmid,
            })
        }

        /// From PVE's next free VMID, the first that our own `creating` rows do not hold either.
        async fn next_free_vmid(&self, ctx: &ServerContext, first: u32) -> Result<u32, AppError> {
            let mut conn = ctx.conn().await?;
            for candidate in first..first.saturating_add(VMID_SEARCH) {
                if !backend::creation::vmid_held(&mut conn, self.row.id, candidate).await? {
                    let free = candidate == first
                        || matches!(
                            self.client.check_vmid(candidate).await,
                            Ok(VmidAvailability::Free)
                        );
                    if free {
                        return Ok(candidate);
                    }
                }
            }
            Ok(first)
        }
    }
}
