//! Reaching the container: its own sshd with the worker's deploy key and a host key pinned on
//! first use, or, when that sshd cannot be reached, the Proxmox node's sshd and `pct`.

use backend::models::{ContainerRow, NodeRow};
use remote_shell::{
    AnyTarget, ConnectOptions, DirectSsh, HostKey, PctViaNode, RemoteError, RemoteTarget,
    SshSession, connect_with_retry,
};

use super::failure::{Failure, InfraExt};
use super::job::Job;

impl Job<'_> {
    /// Connects if not connected yet.
    pub(super) async fn ensure_target(&mut self) -> Result<AnyTarget, Failure> {
        if let Some(target) = &self.target {
            return Ok(target.clone());
        }
        let target = self.connect().await?;
        self.log(&format!("Connected: {}", target.describe()))
            .await?;
        self.target = Some(target.clone());
        Ok(target)
    }

    async fn connect(&mut self) -> Result<AnyTarget, Failure> {
        let direct_problem = match self.ip.clone() {
            Some(ip) => match self.connect_direct(&ip).await? {
                Ok(session) => return Ok(DirectSsh::new(session).into()),
                Err(problem) => {
                    self.log(&format!(
                        "Cannot use the container's own sshd ({problem}); using pct through the \
                         Proxmox node."
                    ))
                    .await?;
                    problem
                }
            },
            None => format!(
                "the container has no IPv4 address (no DHCP lease within {} s: is there a DHCP \
                 server on bridge {}?)",
                self.deps.settings.dhcp_timeout.as_secs(),
                self.spec.bridge
            ),
        };
        match self.connect_node_ssh().await? {
            Ok(session) => Ok(PctViaNode::new(session, self.vmid()).into()),
            Err(node_problem) => Err(Failure::failed(format!(
                "Cannot reach the container over SSH: {direct_problem}. The fallback through the \
                 Proxmox node failed too: {node_problem}"
            ))),
        }
    }

    /// The container's own sshd; `Ok(Err(why))` when the fallback should be tried.
    async fn connect_direct(&mut self, ip: &str) -> Result<Result<SshSession, String>, Failure> {
        let pinned = match self.row.ssh_host_key.as_deref() {
            Some(text) => Some(HostKey::parse(text).map_err(|e| {
                Failure::failed(format!(
                    "The container's stored SSH host key is unreadable: {e}"
                ))
            })?),
            None => None,
        };
        let settings = &self.deps.settings;
        let opts = ConnectOptions::new(
            ip,
            settings.container_ssh_port,
            "root",
            self.deps.deploy_key.clone(),
        )
        .with_pinned_host_key(pinned)
        .with_connect_timeout(settings.ssh_connect_timeout);
        let session = match connect_with_retry(&opts, &settings.ssh_retry).await {
            Ok(session) => session,
            Err(RemoteError::HostKeyMismatch { expected, seen, .. }) => {
                return Err(Failure::failed(format!(
                    "The container's SSH host key changed: infrahaus pinned {} when it first \
                     connected and now sees {}. If the container was rebuilt on purpose, delete \
                     this entry and create it again; otherwise someone may be intercepting the \
                     connection.",
                    expected.fingerprint(),
                    seen.fingerprint()
                )));
            }
            Err(e) => return Ok(Err(e.to_string())),
        };
        if self.row.ssh_host_key.is_none() {
            let seen = session.host_key().to_openssh();
            let mut conn = self.conn().await?;
            let pinned = ContainerRow::pin_ssh_host_key(&mut conn, self.id, &seen)
                .await
                .infra("pinning the container's host key")?;
            drop(conn);
            if pinned != seen {
                return Err(Failure::failed(
                    "Another connection pinned a different SSH host key for this container \
                     meanwhile. Delete this entry and create it again.",
                ));
            }
            self.log(&format!(
                "Pinned the container's SSH host key {}",
                session.host_key().fingerprint()
            ))
            .await?;
            self.row.ssh_host_key = Some(pinned);
        }
        Ok(Ok(session))
    }

    /// The node's sshd as root, its host key pinned on first use; `Ok(Err(why))` on failure.
    async fn connect_node_ssh(&mut self) -> Result<Result<SshSession, String>, Failure> {
        let node = self.node_row().clone();
        let pinned = match node.ssh_host_key.as_deref() {
            Some(text) => match HostKey::parse(text) {
                Ok(key) => Some(key),
                Err(e) => {
                    return Ok(Err(format!(
                        "the node's stored host key is unreadable: {e}"
                    )));
                }
            },
            None => None,
        };
        let settings = &self.deps.settings;
        let port = u16::try_from(node.ssh_port).unwrap_or(22);
        let opts = ConnectOptions::new(&node.host, port, "root", self.deps.deploy_key.clone())
            .with_pinned_host_key(pinned)
            .with_connect_timeout(settings.ssh_connect_timeout);
        let session = match connect_with_retry(&opts, &settings.node_ssh_retry).await {
            Ok(session) => session,
            Err(RemoteError::AuthFailed { .. }) => {
                return Ok(Err(format!(
                    "node {} refused the worker's deploy key for root; add this line to \
                     /root/.ssh/authorized_keys on the node: {}",
                    node.name,
                    self.deps.deploy_key.public_openssh()
                )));
            }
            Err(e) => return Ok(Err(e.to_string())),
        };
        if node.ssh_host_key.is_none() {
            let seen = session.host_key().to_openssh();
            let mut conn = self.conn().await?;
            let pinned = NodeRow::pin_ssh_host_key(&mut conn, node.id, &seen)
                .await
                .infra("pinning the node's host key")?;
            if pinned != seen {
                return Ok(Err(format!(
                    "node {} presented another SSH host key than the one pinned meanwhile",
                    node.name
                )));
            }
        }
        Ok(Ok(session))
    }
}
