//! Starting and stopping a container's SSH endpoint.

use std::net::SocketAddr;
use std::sync::Arc;

use super::keys::HostKey;
use super::{Target, serve};
use crate::sandbox::HOST_KEY_FILE;
use crate::sim::Sim;

/// The host key the container's sshd presents: the one in the container's
/// `/etc/ssh/ssh_host_ed25519_key`, as sshd loads it at start (the key recorded at create for
/// containers from before the key was kept there).
pub fn host_key(sim: &Sim, vmid: u32) -> Result<HostKey, String> {
    let file = sim.container_root(vmid).join(HOST_KEY_FILE);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => sim
            .store
            .read(|s| s.containers.get(&vmid).and_then(|c| c.host_key.clone()))
            .ok_or_else(|| format!("CT {vmid} has no SSH host key"))?,
        Err(e) => return Err(format!("cannot read /{HOST_KEY_FILE}: {e}")),
    };
    HostKey::from_openssh(&text).map_err(|e| format!("/{HOST_KEY_FILE}: {e}"))
}

/// Serves SSH for `vmid` on `addr` with the container's host key.
pub async fn start_endpoint(sim: &Arc<Sim>, vmid: u32, addr: SocketAddr) -> Result<(), String> {
    let key = host_key(sim, vmid)?;
    let cancel = sim.cancel.child_token();
    {
        let mut endpoints = sim.endpoints();
        if endpoints.contains_key(&vmid) {
            return Err(format!("CT {vmid} already running"));
        }
        endpoints.insert(vmid, cancel.clone());
    }
    match serve(
        sim,
        addr,
        key.private_key().clone(),
        Target::Container { vmid },
        cancel,
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            sim.endpoints().remove(&vmid);
            Err(e.to_string())
        }
    }
}

/// Closes the endpoint and every session of `vmid` (running commands are killed).
pub fn stop_endpoint(sim: &Sim, vmid: u32) {
    if let Some(cancel) = sim.endpoints().remove(&vmid) {
        cancel.cancel();
    }
}
