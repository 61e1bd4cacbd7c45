//! One stored Proxmox node as the server functions, the worker and the preflight use it: a
//! [`NodeSession`] (a client for it and its name inside Proxmox), what it offers the wizard,
//! VMID checks; and the settings page's save, delete and connection test.

use super::ServiceError;
use crate::crypto::SecretBox;
use crate::db::DbPool;
use crate::models::{NewNode, NodeRow, is_unique_violation};
use domain::NodeId;
use domain::node::{
    BridgeChoice, ConnectionReport, NodeInput, NodeResources, NodeSummary, StorageChoice,
};
use domain::values::Vmid;
use pve_client::cluster::VmidAvailability;
use pve_client::storage::ContentType;
use pve_client::{PveClient, PveError};

/// How many VMIDs past PVE's next free one are tried when our own creations hold the first.
const VMID_SEARCH: u32 = 64;

/// Why a session with a stored node could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("This node is no longer registered in infrahaus.")]
    Unregistered,
    #[error("The settings of node '{node}' cannot be used: {reason}")]
    Unusable { node: String, reason: String },
    #[error("Cannot reach Proxmox node '{node}': {source}")]
    Unreachable { node: String, source: PveError },
    #[error(
        "The Proxmox cluster has the nodes {}, none named '{node}'. Rename the node in Settings to \
         its Proxmox name.", names.join(", ")
    )]
    NotInCluster { node: String, names: Vec<String> },
    #[error("Proxmox reports node '{node}' as offline.")]
    Offline { node: String },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<NodeError> for ServiceError {
    fn from(err: NodeError) -> Self {
        match err {
            NodeError::Unregistered => ServiceError::invalid(
                "node_id",
                "This node is no longer registered. Choose another one.",
            ),
            NodeError::Service(e) => e,
            other => {
                tracing::info!(error = %other, "node unusable");
                ServiceError::Unavailable(other.to_string())
            }
        }
    }
}

/// A stored node with a client for it and its name inside Proxmox.
pub struct NodeSession {
    pub row: NodeRow,
    pub client: PveClient,
    /// The node's name in Proxmox paths (`/nodes/{pve_node}/…`).
    pub pve_node: String,
}

impl NodeSession {
    /// Loads the node, builds its client and finds its Proxmox name: the cluster node with the
    /// node's name, or the only one.
    pub async fn open(
        db: &DbPool,
        secrets: &SecretBox,
        node_id: NodeId,
    ) -> Result<NodeSession, NodeError> {
        let row = {
            let mut conn = super::conn(db).await?;
            match NodeRow::find(&mut conn, node_id).await {
                Err(diesel::result::Error::NotFound) => return Err(NodeError::Unregistered),
                other => other.map_err(ServiceError::from)?,
            }
        };
        let client =
            crate::proxmox::client_for_row(&row, secrets).map_err(|e| NodeError::Unusable {
                node: row.name.clone(),
                reason: e.to_string(),
            })?;
        let nodes = client
            .nodes()
            .await
            .map_err(|source| NodeError::Unreachable {
                node: row.name.clone(),
                source,
            })?;
        let found = nodes
            .iter()
            .find(|n| n.node == row.name)
            .or(match nodes.as_slice() {
                [only] => Some(only),
                _ => None,
            });
        let Some(found) = found else {
            return Err(NodeError::NotInCluster {
                node: row.name.clone(),
                names: nodes.iter().map(|n| n.node.clone()).collect(),
            });
        };
        if !found.is_online() {
            return Err(NodeError::Offline {
                node: found.node.clone(),
            });
        }
        let pve_node = found.node.clone();
        Ok(NodeSession {
            row,
            client,
            pve_node,
        })
    }

    /// A Proxmox failure naming this node.
    pub fn unreachable(&self, err: PveError) -> ServiceError {
        tracing::info!(node = %self.row.name, error = %err, "Proxmox call failed");
        ServiceError::Unavailable(format!(
            "Cannot reach Proxmox node '{}': {err}",
            self.row.name
        ))
    }

    /// Why `vmid` cannot be used, or `None` when it is free on the node and no container
    /// infrahaus is creating there holds it.
    pub async fn vmid_taken(
        &self,
        db: &DbPool,
        vmid: Vmid,
    ) -> Result<Option<String>, ServiceError> {
        let mut conn = super::conn(db).await?;
        if crate::creation::vmid_held(&mut conn, self.row.id, vmid).await? {
            return Ok(Some(format!(
                "VMID {vmid} is taken by a container infrahaus is creating on this node."
            )));
        }
        drop(conn);
        match self.client.check_vmid(vmid.get()).await {
            Ok(VmidAvailability::Free) => Ok(None),
            Ok(VmidAvailability::Taken { .. }) => Ok(Some(format!(
                "VMID {vmid} is already used on node '{}'. Choose another.",
                self.row.name
            ))),
            Err(e) => Err(self.unreachable(e)),
        }
    }

    /// The node's lists for the wizard's Configure step.
    pub async fn resources(&self, db: &DbPool) -> Result<NodeResources, ServiceError> {
        let node = self.pve_node.as_str();
        let (rootdir, template_stores, bridges, next) = tokio::join!(
            self.client.storages(node, Some(ContentType::RootDir)),
            self.client.storages(node, Some(ContentType::Template)),
            self.client.bridges(node),
            self.client.next_vmid(),
        );
        let storages = rootdir
            .map_err(|e| self.unreachable(e))?
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
            .map_err(|e| self.unreachable(e))?
            .into_iter()
            .filter(|s| s.is_usable() && s.accepts(ContentType::Template))
        {
            let volumes = self
                .client
                .templates(node, &store.storage)
                .await
                .map_err(|e| self.unreachable(e))?;
            os_templates.extend(volumes.into_iter().map(|v| v.volid));
        }
        let bridges = bridges
            .map_err(|e| self.unreachable(e))?
            .into_iter()
            .map(|b| BridgeChoice {
                name: b.iface,
                cidr: b.cidr,
            })
            .collect();
        let next_vmid = self
            .next_free_vmid(db, next.map_err(|e| self.unreachable(e))?)
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
    async fn next_free_vmid(&self, db: &DbPool, first: u32) -> Result<u32, ServiceError> {
        let mut conn = super::conn(db).await?;
        for candidate in first..first.saturating_add(VMID_SEARCH) {
            let Ok(vmid) = Vmid::new(candidate) else {
                continue;
            };
            if !crate::creation::vmid_held(&mut conn, self.row.id, vmid).await? {
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

/// Adds a node (`id` is `None`) or updates one. An update without a secret keeps the stored one,
/// allowed only while the address, TLS trust and token stay the same.
pub async fn save(
    db: &DbPool,
    secrets: &SecretBox,
    id: Option<NodeId>,
    input: NodeInput,
) -> Result<NodeSummary, ServiceError> {
    let mut conn = super::conn(db).await?;
    if let Some(id) = id {
        check_secret_reuse(&input, &NodeRow::find(&mut conn, id).await?)?;
    }
    let new = NewNode::from_input(input, secrets);
    let saved = match id {
        None => NodeRow::insert(&mut conn, &new).await,
        Some(id) => NodeRow::update(&mut conn, id, &new).await,
    };
    match saved {
        Ok(row) => Ok(row.summary()),
        Err(e) if is_unique_violation(&e) => Err(ServiceError::invalid(
            "name",
            "A node with this name already exists.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a node that has no containers.
pub async fn delete(db: &DbPool, id: NodeId) -> Result<(), ServiceError> {
    use diesel::result::{DatabaseErrorKind, Error};
    let mut conn = super::conn(db).await?;
    match NodeRow::delete(&mut conn, id).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ServiceError::NotFound),
        Err(Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            Err(ServiceError::Conflict(
                "This node still has containers in infrahaus. Delete them first.".into(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Connects with the form's settings (the stored secret of node `id` when the form carries
/// none and keeps that node's address, TLS trust and token) and reports what a container
/// creation would find there.
pub async fn test_connection(
    db: &DbPool,
    secrets: &SecretBox,
    id: Option<NodeId>,
    input: &NodeInput,
) -> Result<ConnectionReport, ServiceError> {
    let secret = match (input.token_secret.clone(), id) {
        (Some(secret), _) => secret,
        (None, Some(id)) => {
            let mut conn = super::conn(db).await?;
            let row = NodeRow::find(&mut conn, id).await?;
            check_secret_reuse(input, &row)?;
            secrets.open_str(
                crate::crypto::Purpose::NodeTokenSecret,
                &row.token_secret_enc,
            )?
        }
        (None, None) => return Err(ServiceError::invalid("token_secret", "Required.")),
    };
    let unavailable = |err: PveError| {
        tracing::info!(error = %err, "Proxmox call failed");
        ServiceError::Unavailable(err.to_string())
    };
    let client = crate::proxmox::client_for(
        &input.host,
        input.port,
        &input.token_id,
        &secret,
        &input.tls,
    )
    .map_err(unavailable)?;
    let report = pve_client::preflight(&client, None)
        .await
        .map_err(unavailable)?;
    Ok(crate::proxmox::connection_report(&report))
}

/// Refuses to use `stored`'s secret with settings it was not saved for: the secret would be
/// sent to whatever host the form names.
fn check_secret_reuse(input: &NodeInput, stored: &NodeRow) -> Result<(), ServiceError> {
    if input.token_secret.is_some() {
        return Ok(());
    }
    match input.stored_secret_refusal(&stored.summary()) {
        None => Ok(()),
        Some(message) => Err(ServiceError::invalid("token_secret", message)),
    }
}
