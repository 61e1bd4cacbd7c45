//! Container lifecycle: the synchronous checks PVE does before forking a worker, and the task
//! workers themselves (create, start, stop, shutdown, reboot, destroy).

pub mod addresses;
pub mod create;
pub mod destroy;
pub mod power;
pub mod tasks;

use std::sync::Arc;
use std::time::Duration;

use crate::api::error::ApiError;
use crate::sim::Sim;
use crate::state::Container;

/// The container on `node`, or PVE's 500 for a missing config file.
pub fn load(sim: &Sim, node: &str, vmid: u32) -> Result<Container, ApiError> {
    sim.store
        .read(|s| s.container_on(node, vmid).cloned())
        .ok_or_else(|| {
            ApiError::internal(format!(
                "Configuration file 'nodes/{node}/lxc/{vmid}.conf' does not exist"
            ))
        })
}

/// PVE refuses most operations on a locked container.
pub fn check_lock(ct: &Container) -> Result<(), ApiError> {
    match &ct.lock {
        Some(lock) => Err(ApiError::internal(format!("CT is locked ({lock})"))),
        None => Ok(()),
    }
}

/// Waits the configured duration of a task type (or until shutdown).
pub async fn task_delay(sim: &Sim, task_type: &str) {
    let delay = sim.faults().task_delay(task_type);
    if !delay.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = sim.cancel.cancelled() => {}
        }
    }
}

/// Brings the simulator's containers back after a restart: interrupted tasks end as
/// `unexpected status`, half-created containers are removed, running ones start their SSH
/// endpoints again.
pub async fn recover(sim: &Arc<Sim>) {
    let now = Sim::now();
    let (interrupted, running) = sim.store.update(|state| {
        for task in state.tasks.iter_mut().filter(|t| t.is_running()) {
            task.log.push("TASK ERROR: unexpected status".into());
            task.exitstatus = Some("unexpected status".into());
            task.endtime = Some(now);
        }
        let interrupted: Vec<u32> = state
            .containers
            .values()
            .filter(|c| c.lock.as_deref() == Some("create"))
            .map(|c| c.vmid)
            .collect();
        for vmid in &interrupted {
            state.containers.remove(vmid);
        }
        let running: Vec<u32> = state
            .containers
            .values()
            .filter(|c| c.is_running())
            .map(|c| c.vmid)
            .collect();
        (interrupted, running)
    });
    for vmid in interrupted {
        tracing::warn!(vmid, "removing a container whose creation was interrupted");
        let _ = std::fs::remove_dir_all(sim.container_dir(vmid));
    }
    for vmid in running {
        if let Err(e) = power::boot(sim, vmid).await {
            tracing::error!(vmid, error = %e, "cannot restart container after simulator restart; marking it stopped");
            sim.store.update(|state| {
                if let Some(ct) = state.containers.get_mut(&vmid) {
                    ct.status = crate::state::PowerState::Stopped;
                    ct.started_at = None;
                }
            });
        }
    }
}

/// How long to wait for background work on shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
