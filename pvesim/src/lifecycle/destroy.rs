//! `DELETE /nodes/{node}/lxc/{vmid}`: checks and the `vzdestroy` worker.

use std::sync::Arc;

use super::tasks::{self, Outcome};
use crate::api::error::ApiError;
use crate::sim::Sim;

/// Removes a stopped container (or a running one with `force`), its root and its address.
pub fn destroy(
    sim: &Arc<Sim>,
    node: &str,
    vmid: u32,
    authid: &str,
    force: bool,
) -> Result<String, ApiError> {
    let ct = super::load(sim, node, vmid)?;
    super::check_lock(&ct)?;
    if ct.is_running() && !force {
        return Err(ApiError::internal(format!(
            "unable to destroy CT {vmid} - container is running"
        )));
    }
    let upid = tasks::begin(sim, node, "vzdestroy", &vmid.to_string(), authid);
    let (sim, worker_upid) = (sim.clone(), upid.clone());
    sim.clone().tracker.spawn(async move {
        super::task_delay(&sim, "vzdestroy").await;
        let failure = sim.faults().take_failure("vzdestroy");
        let outcome = match failure {
            Some(msg) if msg.is_empty() => {
                Outcome::Err(format!("unable to destroy CT {vmid} - simulated failure"))
            }
            Some(msg) => Outcome::Err(msg),
            None => {
                super::power::halt(&sim, vmid);
                let removed = sim.store.update(|s| s.containers.remove(&vmid));
                if let Err(e) = std::fs::remove_dir_all(sim.container_dir(vmid))
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(vmid, error = %e, "cannot remove container directory");
                }
                if let Some(rootfs) = removed.as_ref().and_then(|c| c.config.get("rootfs")) {
                    let volume = rootfs.split(',').next().unwrap_or_default();
                    let name = volume.split_once(':').map_or(volume, |(_, v)| v);
                    tasks::log(
                        &sim,
                        &worker_upid,
                        format!("  Logical volume \"{name}\" successfully removed."),
                    );
                }
                Outcome::Ok(tasks::injected_warnings(&sim, &worker_upid, "vzdestroy"))
            }
        };
        tasks::finish(&sim, &worker_upid, outcome);
    });
    Ok(upid)
}
