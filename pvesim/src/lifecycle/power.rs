//! Start, stop and shutdown: PVE's synchronous checks and the `vzstart`/`vzstop`/`vzshutdown`
//! workers. A started container's SSH server comes up; stopping it drops every session.

use std::net::SocketAddr;
use std::sync::Arc;

use rand::Rng;

use super::addresses;
use super::tasks::{self, Outcome};
use crate::api::error::ApiError;
use crate::inventory;
use crate::sim::Sim;
use crate::state::PowerState;

/// `POST .../status/start`.
pub fn start(sim: &Arc<Sim>, node: &str, vmid: u32, authid: &str) -> Result<String, ApiError> {
    let ct = super::load(sim, node, vmid)?;
    super::check_lock(&ct)?;
    if ct.is_running() {
        return Err(ApiError::internal(format!("CT {vmid} already running")));
    }
    let upid = tasks::begin(sim, node, "vzstart", &vmid.to_string(), authid);
    let (sim, worker_upid) = (sim.clone(), upid.clone());
    sim.clone().tracker.spawn(async move {
        super::task_delay(&sim, "vzstart").await;
        let failure = sim.faults().take_failure("vzstart");
        let outcome = match failure {
            Some(msg) if msg.is_empty() => {
                Outcome::Err(format!("startup for container '{vmid}' failed"))
            }
            Some(msg) => Outcome::Err(msg),
            None => match boot(&sim, vmid).await {
                Ok(()) => Outcome::Ok(tasks::injected_warnings(&sim, &worker_upid, "vzstart")),
                Err(e) => Outcome::Err(e),
            },
        };
        tasks::finish(&sim, &worker_upid, outcome);
    });
    Ok(upid)
}

/// Which of the two ways to stop.
#[derive(Clone, Copy)]
pub enum StopKind {
    /// `status/stop`: immediate.
    Stop,
    /// `status/shutdown`: clean shutdown.
    Shutdown,
}

impl StopKind {
    fn task_type(self) -> &'static str {
        match self {
            StopKind::Stop => "vzstop",
            StopKind::Shutdown => "vzshutdown",
        }
    }
}

/// `POST .../status/stop` and `.../status/shutdown`.
pub fn stop(
    sim: &Arc<Sim>,
    node: &str,
    vmid: u32,
    authid: &str,
    kind: StopKind,
) -> Result<String, ApiError> {
    let ct = super::load(sim, node, vmid)?;
    if !ct.is_running() {
        return Err(ApiError::internal(format!("CT {vmid} not running")));
    }
    let task_type = kind.task_type();
    let upid = tasks::begin(sim, node, task_type, &vmid.to_string(), authid);
    let (sim, worker_upid) = (sim.clone(), upid.clone());
    sim.clone().tracker.spawn(async move {
        super::task_delay(&sim, task_type).await;
        let failure = sim.faults().take_failure(task_type);
        let outcome = match failure {
            Some(msg) if msg.is_empty() => Outcome::Err(format!("unable to stop container {vmid}")),
            Some(msg) => Outcome::Err(msg),
            None if !sim
                .store
                .read(|s| s.containers.get(&vmid).is_some_and(|c| c.is_running())) =>
            {
                Outcome::Err(format!("CT {vmid} not running"))
            }
            None => {
                halt(&sim, vmid);
                Outcome::Ok(tasks::injected_warnings(&sim, &worker_upid, task_type))
            }
        };
        tasks::finish(&sim, &worker_upid, outcome);
    });
    Ok(upid)
}

/// Brings a container up: bridges, address, root files, SSH server, status. Used by the start
/// worker, by create with `start=1`, and when the simulator restarts.
pub async fn boot(sim: &Arc<Sim>, vmid: u32) -> Result<(), String> {
    let ct = sim
        .store
        .read(|s| s.containers.get(&vmid).cloned())
        .ok_or_else(|| format!("CT {vmid} does not exist"))?;
    if ct.is_running() && sim.endpoints().contains_key(&vmid) {
        return Err(format!("CT {vmid} already running"));
    }
    for net in addresses::nets(&ct) {
        if let Some(bridge) = net
            .bridge
            .filter(|b| !inventory::BRIDGES.contains(&b.as_str()))
        {
            return Err(format!("bridge '{bridge}' does not exist"));
        }
    }
    let ip = addresses::ensure_ssh_ip(sim, vmid)?;
    let root = sim.container_root(vmid);
    crate::sandbox::on_start(&root, &ct.name(), Some(ip))
        .map_err(|e| format!("startup for container '{vmid}' failed - {e}"))?;
    let addr = SocketAddr::from((ip, sim.ssh_port));
    crate::ssh::container::start_endpoint(sim, vmid, addr)
        .await
        .map_err(|e| {
            format!("startup for container '{vmid}' failed - cannot listen on {addr}: {e}")
        })?;
    let lease_ms = i64::try_from(sim.faults().dhcp_lease_ms).unwrap_or(i64::MAX);
    sim.store.update(|s| {
        if let Some(ct) = s.containers.get_mut(&vmid) {
            ct.status = PowerState::Running;
            if ct.started_at.is_none() {
                ct.started_at = Some(Sim::now());
                ct.lease_at_ms = Some(Sim::now_ms().saturating_add(lease_ms));
                ct.pid = Some(rand::thread_rng().gen_range(10_000..4_000_000));
            }
        }
    });
    tracing::info!(vmid, %addr, "container started");
    Ok(())
}

/// Takes a container down: SSH server and sessions, units, status.
pub fn halt(sim: &Sim, vmid: u32) {
    crate::ssh::container::stop_endpoint(sim, vmid);
    if let Err(e) = crate::sandbox::on_stop(&sim.container_root(vmid)) {
        tracing::warn!(vmid, error = %e, "cannot reset units on stop");
    }
    sim.store.update(|s| {
        if let Some(ct) = s.containers.get_mut(&vmid) {
            ct.status = PowerState::Stopped;
            ct.started_at = None;
            ct.lease_at_ms = None;
            ct.pid = None;
        }
    });
    tracing::info!(vmid, "container stopped");
}
