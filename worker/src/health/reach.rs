//! Reaching a ready container for a check: its own sshd at its stored address, logged in with
//! its own key and accepted only with the host key pinned at creation; when that fails, `pct`
//! through its Proxmox node (node key, node host key pinned). Nothing is trusted on first use
//! here and the node key is never offered to a container.

use backend::crypto::Purpose;
use backend::models::{ContainerRow, NodeRow};
use domain::health::CheckedVia;
use remote_shell::{
    AnyTarget, ConnectOptions, DeployKey, DirectSsh, HostKey, PctViaNode, RemoteError, SshSession,
};

use super::HealthChecker;

/// A way into the container, and how it was found.
pub(super) struct Reached {
    pub target: AnyTarget,
    pub via: CheckedVia,
    /// Why the container's own sshd was not used.
    pub note: Option<String>,
}

impl Reached {
    /// Closes the SSH session behind the target.
    pub async fn close(self) {
        let session = match &self.target {
            AnyTarget::Direct(direct) => direct.session(),
            AnyTarget::Pct(pct) => pct.node(),
        };
        let _ = session.close().await;
    }
}

/// The container's own sshd, else `pct` through its node; `Err` says why neither worked.
pub(super) async fn reach(
    checker: &HealthChecker,
    row: &ContainerRow,
    node: &NodeRow,
) -> Result<Reached, String> {
    let direct_problem = match direct(checker, row).await {
        Ok(session) => {
            return Ok(Reached {
                target: DirectSsh::new(session).into(),
                via: CheckedVia::ContainerSsh,
                note: None,
            });
        }
        Err(problem) => problem,
    };
    match node_ssh(checker, node).await {
        Ok(session) => Ok(Reached {
            target: PctViaNode::new(session, row.vmid.get()).into(),
            via: CheckedVia::ProxmoxNode,
            note: Some(format!(
                "Checked through the Proxmox node: the container's own SSH was not used \
                 ({direct_problem})."
            )),
        }),
        Err(node_problem) => Err(format!(
            "Could not reach the container: its own SSH failed ({direct_problem}) and so did \
             the way through Proxmox node {} ({node_problem}).",
            node.name
        )),
    }
}

/// The container's sshd at its stored address with its own key and its pinned host key.
async fn direct(checker: &HealthChecker, row: &ContainerRow) -> Result<SshSession, String> {
    let ip = row
        .ip_address
        .as_deref()
        .ok_or("its address is not known")?;
    let pinned = row
        .ssh_host_key
        .as_deref()
        .ok_or("its SSH host key was never pinned")?;
    let pinned = HostKey::parse(pinned)
        .map_err(|e| format!("its pinned SSH host key is unreadable: {e}"))?;
    let sealed = row
        .ssh_key_enc
        .as_deref()
        .ok_or("it has no SSH key of its own (created before per-container keys)")?;
    let pem = checker
        .secrets
        .open_str(Purpose::ContainerSshKey, sealed)
        .map_err(|e| format!("its stored SSH key cannot be read: {e}"))?;
    let key = DeployKey::from_openssh(&pem)
        .map_err(|e| format!("its stored SSH key is unusable: {e}"))?;
    let opts = ConnectOptions::new(ip, checker.settings.container_ssh_port, "root", key)
        .with_pinned_host_key(Some(pinned))
        .with_connect_timeout(checker.settings.connect_timeout);
    remote_shell::connect(&opts).await.map_err(|e| match e {
        RemoteError::HostKeyMismatch { seen, .. } => format!(
            "the host at {ip} presented SSH host key {}, not the container's pinned key; \
             nothing was run there",
            seen.fingerprint()
        ),
        other => other.to_string(),
    })
}

/// The node's sshd as root with the node key and the node's pinned host key.
async fn node_ssh(checker: &HealthChecker, node: &NodeRow) -> Result<SshSession, String> {
    let pinned = node
        .ssh_host_key
        .as_deref()
        .ok_or("its SSH host key is not pinned yet")?;
    let pinned = HostKey::parse(pinned)
        .map_err(|e| format!("its pinned SSH host key is unreadable: {e}"))?;
    let port = u16::try_from(node.ssh_port).unwrap_or(22);
    let opts = ConnectOptions::new(&node.host, port, "root", checker.node_key.clone())
        .with_pinned_host_key(Some(pinned))
        .with_connect_timeout(checker.settings.connect_timeout);
    remote_shell::connect(&opts)
        .await
        .map_err(|e| e.to_string())
}
