//! Reaching the container: its own sshd, logged in with the container's own key, or, when that
//! sshd cannot be reached, the Proxmox node's sshd and `pct` (the node key is used for the node
//! only).
//!
//! Before the worker trusts the host key at the container's address it proves that the address
//! is the container: with the node's SSH it reads the container's host keys through `pct` and
//! accepts only those; without it, the address must be one of the container's own addresses in
//! `/interfaces`, and the key is trusted on first use (said in the progress log). A host that
//! presents another key fails the job: nothing is run there, and there is no fallback.

use backend::models::{ContainerRow, NodeRow};
use remote_shell::{
    AnyTarget, ConnectOptions, DeployKey, DirectSsh, HostKey, PctViaNode, RemoteError,
    RemoteTarget, SshSession, connect_with_retry,
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
        let vmid = self.vmid();
        let pct = self
            .connect_node_ssh()
            .await?
            .map(|session| PctViaNode::new(session, vmid));
        let key = match (self.stored_container_key()?, &pct) {
            (Some(key), _) => key,
            (None, Ok(pct)) => self.rekey_through_node(pct).await?,
            (None, Err(_)) => {
                self.log(&format!(
                    "Container {} was created before per-container SSH keys, and the Proxmox \
                     node's SSH is not available to re-key it: the worker logs in to it with its \
                     node key this time.",
                    self.vmid()
                ))
                .await?;
                self.deps.node_key.clone()
            }
        };
        let direct_problem = match self.ip.clone() {
            Some(ip) => match self.connect_direct(&ip, key, pct.as_ref().ok()).await? {
                Ok(session) => {
                    if let Ok(pct) = &pct {
                        let _ = pct.node().close().await;
                    }
                    return Ok(DirectSsh::new(session).into());
                }
                Err(problem) => problem,
            },
            None => format!(
                "the container has no IPv4 address (no DHCP lease within {} s: is there a DHCP \
                 server on bridge {}?)",
                self.deps.settings.dhcp_timeout.as_secs(),
                self.spec.bridge
            ),
        };
        match pct {
            Ok(pct) => {
                if self.ip.is_some() {
                    self.log(&format!(
                        "Cannot use the container's own sshd ({direct_problem}); using pct \
                         through the Proxmox node."
                    ))
                    .await?;
                }
                Ok(pct.into())
            }
            Err(node_problem) => Err(Failure::failed(format!(
                "Cannot reach the container over SSH: {direct_problem}. The fallback through the \
                 Proxmox node failed too: {node_problem}"
            ))),
        }
    }

    /// The container's own sshd at `ip`, logged in with `key`; `Ok(Err(why))` when the
    /// fallback through the node should be tried.
    async fn connect_direct(
        &mut self,
        ip: &str,
        key: DeployKey,
        pct: Option<&PctViaNode>,
    ) -> Result<Result<SshSession, String>, Failure> {
        let pinned = match self.row.ssh_host_key.as_deref() {
            Some(text) => Some(HostKey::parse(text).map_err(|e| {
                Failure::failed(format!(
                    "The container's stored SSH host key is unreadable: {e}"
                ))
            })?),
            None => None,
        };
        let own_keys = match pct {
            Some(pct) => match self.host_keys_via_node(pct).await {
                Ok(keys) if keys.is_empty() => {
                    return Ok(Err(
                        "the node shows no SSH host key in the container, so the host at its \
                         address cannot be confirmed"
                            .into(),
                    ));
                }
                Ok(keys) => Some(keys),
                Err(e) => {
                    return Ok(Err(format!(
                        "its SSH host keys cannot be read through the node: {e}"
                    )));
                }
            },
            None => None,
        };
        let accepted = match (&own_keys, pinned) {
            (Some(own), Some(pinned)) if own.contains(&pinned) => vec![pinned],
            (Some(own), Some(pinned)) => return Err(host_key_changed(&[pinned], own)),
            (Some(own), None) => own.clone(),
            (None, Some(pinned)) => vec![pinned],
            (None, None) => {
                self.require_own_address(ip).await?;
                Vec::new()
            }
        };
        let settings = &self.deps.settings;
        let opts = ConnectOptions::new(ip, settings.container_ssh_port, "root", key)
            .with_pinned_host_keys(accepted)
            .with_connect_timeout(settings.ssh_connect_timeout);
        let session = match connect_with_retry(&opts, &settings.ssh_retry).await {
            Ok(session) => session,
            Err(RemoteError::HostKeyMismatch { expected, seen, .. }) => {
                return Err(match own_keys {
                    Some(own) => Failure::failed(format!(
                        "The host at {ip} is not container {}: it presented SSH host key {} but \
                         the container's own key is {}. Nothing was run there. Check the \
                         container's address; another machine may be using it.",
                        self.vmid(),
                        seen.fingerprint(),
                        HostKey::fingerprints(&own)
                    )),
                    None => host_key_changed(&expected, &[seen]),
                });
            }
            Err(e) => return Ok(Err(e.to_string())),
        };
        if self.row.ssh_host_key.is_none() {
            self.pin_host_key(&session).await?;
            let fingerprint = session.host_key().fingerprint();
            self.log(&match own_keys {
                Some(_) => format!(
                    "Pinned the container's SSH host key {fingerprint}, confirmed through the \
                     Proxmox node."
                ),
                None => format!(
                    "Trusted the container's SSH host key {fingerprint} on first use: the \
                     Proxmox node's SSH is not available to confirm it, but {ip} is one of the \
                     container's own addresses."
                ),
            })
            .await?;
        }
        Ok(Ok(session))
    }

    /// Fails unless `ip` is one of the container's addresses in `/interfaces`.
    async fn require_own_address(&self, ip: &str) -> Result<(), Failure> {
        let own = self.container_addresses().await.map_err(|e| {
            Failure::failed(format!(
                "Cannot read the container's addresses to confirm {ip} is the container: {e}"
            ))
        })?;
        if own.iter().any(|a| a.to_string() == ip) {
            return Ok(());
        }
        let own: Vec<String> = own.iter().map(ToString::to_string).collect();
        Err(Failure::failed(format!(
            "{ip} is not one of container {}'s own addresses in Proxmox ({}), and without SSH to \
             the Proxmox node the host there cannot be confirmed to be the container. Nothing was \
             run there. Check the container's address, or add this line to \
             /root/.ssh/authorized_keys on the node so the worker can check through it: {}",
            self.vmid(),
            if own.is_empty() {
                "none".to_owned()
            } else {
                own.join(", ")
            },
            self.deps.node_key.public_openssh()
        )))
    }

    async fn pin_host_key(&mut self, session: &SshSession) -> Result<(), Failure> {
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
        self.row.ssh_host_key = Some(pinned);
        Ok(())
    }

    /// The node's sshd as root with the node key, its host key pinned on first use;
    /// `Ok(Err(why))` on failure.
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
        let opts = ConnectOptions::new(&node.host, port, "root", self.deps.node_key.clone())
            .with_pinned_host_key(pinned)
            .with_connect_timeout(settings.ssh_connect_timeout);
        let session = match connect_with_retry(&opts, &settings.node_ssh_retry).await {
            Ok(session) => session,
            Err(RemoteError::AuthFailed { .. }) => {
                return Ok(Err(format!(
                    "node {} refused the worker's node key for root; add this line to \
                     /root/.ssh/authorized_keys on the node: {}",
                    node.name,
                    self.deps.node_key.public_openssh()
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

/// The host at the container's address presents another key than the one pinned.
fn host_key_changed(pinned: &[HostKey], now: &[HostKey]) -> Failure {
    Failure::failed(format!(
        "The container's SSH host key changed: infrahaus pinned {} when it first connected and \
         now sees {}. If the container was rebuilt on purpose, delete this entry and create it \
         again; otherwise someone may be intercepting the connection.",
        HostKey::fingerprints(pinned),
        HostKey::fingerprints(now)
    ))
}
