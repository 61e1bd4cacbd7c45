//! Starting and stopping a container's SSH endpoint.

use std::net::SocketAddr;
use std::sync::Arc;

use super::keys::HostKey;
use super::{Target, serve};
use crate::sim::Sim;

/// Serves SSH for `vmid` on `addr` with the container's host key.
pub async fn start_endpoint(sim: &Arc<Sim>, vmid: u32, addr: SocketAddr) -> Result<(), String> {
    let key_text = sim
        .store
        .read(|s| s.containers.get(&vmid).and_then(|c| c.host_key.clone()))
        .ok_or_else(|| format!("CT {vmid} has no SSH host key"))?;
    let key = HostKey::from_openssh(&key_text).map_err(|e| e.to_string())?;
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
