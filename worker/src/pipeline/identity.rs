//! The container's SSH identity: its own key pair, which the worker logs in with (created before
//! the create call, sealed in the row, and put in place through the node for containers created
//! before per-container keys), and its host keys as the node reports them.

use std::time::Duration;

use backend::crypto::Purpose;
use backend::models::ContainerRow;
use remote_shell::{
    Command, DeployKey, ExecOptions, HostKey, PctViaNode, RemoteError, RemotePath, RemoteTarget,
};

use super::failure::{Failure, InfraExt};
use super::job::Job;

/// Where a container's sshd keeps its public host keys (Debian's defaults).
const HOST_KEY_FILES: [&str; 3] = [
    "/etc/ssh/ssh_host_ed25519_key.pub",
    "/etc/ssh/ssh_host_ecdsa_key.pub",
    "/etc/ssh/ssh_host_rsa_key.pub",
];

/// root's `authorized_keys` in the container.
const AUTHORIZED_KEYS: &str = "/root/.ssh/authorized_keys";

/// Limit for the small commands run through the node here.
const NODE_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

impl Job<'_> {
    /// The container's key: the stored one, or a new one stored first. Retries and a worker
    /// taking over reuse the first key stored.
    pub(super) async fn ensure_container_key(&mut self) -> Result<DeployKey, Failure> {
        if let Some(key) = self.stored_container_key()? {
            return Ok(key);
        }
        let key = self.new_container_key();
        self.store_container_key(&key).await
    }

    /// The key stored in the row; `None` for a container created before per-container keys.
    pub(super) fn stored_container_key(&self) -> Result<Option<DeployKey>, Failure> {
        let Some(sealed) = &self.row.ssh_key_enc else {
            return Ok(None);
        };
        let pem = self
            .deps
            .secrets
            .open_str(Purpose::ContainerSshKey, sealed)
            .map_err(|e| {
                Failure::failed(format!(
                    "The container's stored SSH key cannot be read ({e}). Was the secret key \
                     file replaced?"
                ))
            })?;
        DeployKey::from_openssh(&pem).map(Some).map_err(|e| {
            Failure::failed(format!("The container's stored SSH key is unusable: {e}"))
        })
    }

    fn new_container_key(&self) -> DeployKey {
        DeployKey::generate_with_comment(&format!("infrahaus-ct-{}", self.vmid()))
    }

    /// Stores `key` sealed unless a key is stored already; returns the stored one.
    async fn store_container_key(&mut self, key: &DeployKey) -> Result<DeployKey, Failure> {
        let secrets = &self.deps.secrets;
        let sealed = key
            .with_openssh_private(|pem| secrets.seal_str(Purpose::ContainerSshKey, pem))
            .map_err(|e| Failure::Infra(e.to_string()))?;
        let mut conn = self.conn().await?;
        let stored = ContainerRow::store_ssh_key_once(&mut conn, self.id, &sealed)
            .await
            .infra("storing the container's SSH key")?;
        drop(conn);
        self.row.ssh_key_enc = Some(stored);
        Ok(self.stored_container_key()?.expect("a key was just stored"))
    }

    /// Gives a container created before per-container keys a key of its own, through its node:
    /// the new public key goes into root's `authorized_keys` in place of the node key, and then
    /// the key is stored. A run stopped in between leaves an unused public key line behind and
    /// the next run re-keys again.
    pub(super) async fn rekey_through_node(
        &mut self,
        pct: &PctViaNode,
    ) -> Result<DeployKey, Failure> {
        let fresh = self.new_container_key();
        self.install_container_key(pct, &fresh).await?;
        let stored = self.store_container_key(&fresh).await?;
        if stored.public_openssh() != fresh.public_openssh() {
            // Another worker stored its key first: that one is kept.
            self.install_container_key(pct, &stored).await?;
        }
        self.log(&format!(
            "Re-keyed container {}: it was created before per-container SSH keys, so through \
             the Proxmox node its root authorized_keys now holds its own key {} instead of the \
             worker's node key.",
            self.vmid(),
            stored.fingerprint()
        ))
        .await?;
        Ok(stored)
    }

    async fn install_container_key(
        &self,
        pct: &PctViaNode,
        key: &DeployKey,
    ) -> Result<(), Failure> {
        let path = RemotePath::new(AUTHORIZED_KEYS).expect("a valid absolute path");
        let failed = |e: RemoteError| {
            Failure::failed(format!(
                "Could not re-key container {} through the Proxmox node ({AUTHORIZED_KEYS}): {e}",
                self.vmid()
            ))
        };
        let current = match pct.read_file(&path, 1 << 20).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(RemoteError::NotFound { .. }) => String::new(),
            Err(e) => return Err(failed(e)),
        };
        let updated = rekeyed_authorized_keys(&current, &self.deps.node_key, key);
        pct.upload(&path, updated.as_bytes(), 0o600)
            .await
            .map_err(failed)
    }

    /// The container's SSH host public keys, read through the node (`pct exec … cat`).
    pub(super) async fn host_keys_via_node(
        &self,
        pct: &PctViaNode,
    ) -> Result<Vec<HostKey>, RemoteError> {
        let cat = Command::new("cat").args(HOST_KEY_FILES);
        let opts = ExecOptions {
            timeout: NODE_COMMAND_TIMEOUT,
            output_limit: 64 * 1024,
        };
        // `cat` fails for the kinds of key the container does not have and prints the others.
        let out = pct.exec_capture(&cat, &opts).await?;
        Ok(out
            .stdout_lossy()
            .lines()
            .filter_map(|line| HostKey::parse(line).ok())
            .collect())
    }
}

/// `current` without the lines holding `node_key`, with `key`'s line added unless present.
fn rekeyed_authorized_keys(current: &str, node_key: &DeployKey, key: &DeployKey) -> String {
    let line = key.public_openssh();
    let mut lines: Vec<&str> = current
        .lines()
        .filter(|l| !node_key.is_in_line(l))
        .collect();
    if !lines.iter().any(|l| key.is_in_line(l)) {
        lines.push(&line);
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use remote_shell::DeployKey;

    use super::rekeyed_authorized_keys;

    #[test]
    fn rekeying_swaps_the_node_key_for_the_containers_and_keeps_the_users() {
        let node = DeployKey::generate();
        let own = DeployKey::generate_with_comment("infrahaus-ct-1");
        let user = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAU4S0LXW6xVDoacFwCx+URJbbIOIDQ4c3j2wF0mpAjF me@laptop";
        let before = format!("{}\n{user}\n", node.public_openssh());
        let after = rekeyed_authorized_keys(&before, &node, &own);
        assert_eq!(after, format!("{user}\n{}\n", own.public_openssh()));
        assert_eq!(rekeyed_authorized_keys(&after, &node, &own), after);
        assert_eq!(
            rekeyed_authorized_keys("", &node, &own),
            format!("{}\n", own.public_openssh())
        );
    }
}
