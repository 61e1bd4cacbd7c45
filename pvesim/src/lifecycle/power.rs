//! Start, stop, shutdown and reboot: PVE's synchronous checks and the `vzstart`/`vzstop`/
//! `vzshutdown`/`vzreboot` workers. A started container's SSH server comes up; stopping it drops
//! every session.
//!
//! A container whose root holds `/etc/pvesim/ignore-shutdown` ignores a clean shutdown, as a
//! container whose init hangs does: `shutdown` waits its `timeout` and fails with PVE's
//! `container did not stop` (or stops it with `forceStop=1`), and `reboot` kills it after the
//! timeout, as `lxc-stop` does for PVE's `vm_reboot`.

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
    let failed = format!("startup for container '{vmid}' failed");
    spawn_worker(sim, &upid, "vzstart", failed, move |sim, upid| async move {
        match boot(&sim, vmid).await {
            Ok(()) => Outcome::Ok(tasks::injected_warnings(&sim, &upid, "vzstart")),
            Err(e) => Outcome::Err(e),
        }
    });
    Ok(upid)
}

/// PVE's default for how long a clean shutdown may take (`timeout` of `status/shutdown`).
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 60;

/// Which of the two ways to stop.
#[derive(Clone, Copy)]
pub enum StopKind {
    /// `status/stop`: immediate.
    Stop,
    /// `status/shutdown`: clean shutdown, waiting at most `timeout_secs`; `force` stops the
    /// container when that passes (`forceStop=1`).
    Shutdown { timeout_secs: u64, force: bool },
}

impl StopKind {
    fn task_type(self) -> &'static str {
        match self {
            StopKind::Stop => "vzstop",
            StopKind::Shutdown { .. } => "vzshutdown",
        }
    }
}

/// Runs a task's worker in the background: the task type's delay, then an injected failure
/// (`failed` words an empty one) or else `work`, then the task's last log line.
fn spawn_worker<W, F>(sim: &Arc<Sim>, upid: &str, task_type: &'static str, failed: String, work: W)
where
    W: FnOnce(Arc<Sim>, String) -> F + Send + 'static,
    F: Future<Output = Outcome> + Send + 'static,
{
    let (sim, upid) = (sim.clone(), upid.to_owned());
    sim.clone().tracker.spawn(async move {
        super::task_delay(&sim, task_type).await;
        let failure = sim.faults().take_failure(task_type);
        let outcome = match failure {
            Some(msg) if msg.is_empty() => Outcome::Err(failed),
            Some(msg) => Outcome::Err(msg),
            None => work(sim.clone(), upid.clone()).await,
        };
        tasks::finish(&sim, &upid, outcome);
    });
}

/// Whether the container ignores a clean shutdown (see the module doc).
fn ignores_shutdown(sim: &Sim, vmid: u32) -> bool {
    sim.container_root(vmid)
        .join("etc/pvesim/ignore-shutdown")
        .exists()
}

/// Waits `secs` seconds (or until the simulator shuts down).
async fn wait_secs(sim: &Sim, secs: u64) {
    tokio::select! {
        _ = tokio::time::sleep(std::time::Duration::from_secs(secs)) => {}
        _ = sim.cancel.cancelled() => {}
    }
}

fn is_running(sim: &Sim, vmid: u32) -> bool {
    sim.store
        .read(|s| s.containers.get(&vmid).is_some_and(|c| c.is_running()))
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
    let failed = format!("unable to stop container {vmid}");
    spawn_worker(sim, &upid, task_type, failed, move |sim, upid| async move {
        if !is_running(&sim, vmid) {
            return Outcome::Err(format!("CT {vmid} not running"));
        }
        if let StopKind::Shutdown {
            timeout_secs,
            force,
        } = kind
            && ignores_shutdown(&sim, vmid)
        {
            wait_secs(&sim, timeout_secs).await;
            if !force {
                let command = format!("lxc-stop -n {vmid} --nokill --timeout {timeout_secs}");
                tasks::log(
                    &sim,
                    &upid,
                    format!("command '{command}' failed: exit code 1"),
                );
                return Outcome::Err("container did not stop".into());
            }
        }
        halt(&sim, vmid);
        Outcome::Ok(tasks::injected_warnings(&sim, &upid, task_type))
    });
    Ok(upid)
}

/// `POST .../status/reboot`: a `vzreboot` task that shuts the container down (killing it when
/// it ignores the shutdown for `timeout` seconds) and starts it again, as PVE's `vm_reboot`.
pub fn reboot(
    sim: &Arc<Sim>,
    node: &str,
    vmid: u32,
    authid: &str,
    timeout_secs: Option<u64>,
) -> Result<String, ApiError> {
    let ct = super::load(sim, node, vmid)?;
    if !ct.is_running() {
        return Err(ApiError::internal(format!("VM {vmid} not running")));
    }
    let upid = tasks::begin(sim, node, "vzreboot", &vmid.to_string(), authid);
    let failed = format!("unable to reboot CT {vmid}");
    spawn_worker(
        sim,
        &upid,
        "vzreboot",
        failed,
        move |sim, upid| async move {
            // PVE's vm_reboot does nothing for a container that stopped in the meantime.
            if !is_running(&sim, vmid) {
                return Outcome::Ok(0);
            }
            if ignores_shutdown(&sim, vmid) {
                wait_secs(&sim, timeout_secs.unwrap_or(SHUTDOWN_TIMEOUT_SECS)).await;
            }
            halt(&sim, vmid);
            match boot_again(&sim, vmid).await {
                Ok(()) => Outcome::Ok(tasks::injected_warnings(&sim, &upid, "vzreboot")),
                Err(e) => Outcome::Err(e),
            }
        },
    );
    Ok(upid)
}

/// Starts a container that was just halted. Its SSH endpoint lets go of the address a moment
/// after the halt, so a start that cannot listen yet is tried again, for up to 2 s.
async fn boot_again(sim: &Arc<Sim>, vmid: u32) -> Result<(), String> {
    let mut tries = 0;
    loop {
        match boot(sim, vmid).await {
            Err(e) if e.contains("cannot listen") && tries < 40 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            done => return done,
        }
    }
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
