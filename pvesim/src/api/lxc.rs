//! `/nodes/{node}/lxc...`: list, create, status, config, interfaces, power, delete.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::Ctx;
use super::error::{ApiData, ApiError, ApiResult};
use super::storage::rootfs_bytes;
use crate::lifecycle::power::StopKind;
use crate::lifecycle::{self, addresses, create, destroy, power};
use crate::sim::Sim;
use crate::state::Container;

const MIB: u64 = 1024 * 1024;

fn config_num(ct: &Container, key: &str, default: u64) -> u64 {
    ct.config
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What a running container uses at a moment: figures that move with time and uptime the way a
/// lightly loaded container's do, the same for the same VMID, time and uptime (so tests can
/// reason about them). The caller caps them at the container's limits.
struct Usage {
    /// Share of the container's CPUs in use, 0.5 % to 4.5 %.
    cpu: f64,
    /// Bytes of memory in use: a base, plus caches that grow for two minutes, then drop.
    mem: u64,
    /// Bytes used on the root disk: the installed system, plus logs that grow with uptime.
    disk: u64,
}

impl Usage {
    fn at(vmid: u32, now: i64, uptime: u64) -> Self {
        let base = u64::from(vmid % 97);
        let phase = (now as f64) / 7.0 + f64::from(vmid);
        let cpu = 0.005 + 0.02 * (phase.sin() + 1.0);
        Usage {
            cpu: (cpu * 10_000.0).round() / 10_000.0,
            mem: (40 + base) * MIB + (uptime % 120) * 256 * 1024,
            disk: (600 + base) * MIB + uptime.min(86_400) * 4096,
        }
    }
}

/// The status fields PVE 9 reports for a container in lists and `status/current`.
pub fn status_fields(ct: &Container) -> Value {
    let maxdisk = ct
        .config
        .get("rootfs")
        .map_or(4 * 1024 * MIB, |r| rootfs_bytes(r));
    let mut row = json!({
        "vmid": ct.vmid,
        "type": "lxc",
        "status": ct.status.as_str(),
        "name": ct.name(),
        "cpus": config_num(ct, "cores", 4),
        "maxmem": config_num(ct, "memory", 512) * MIB,
        "maxswap": config_num(ct, "swap", 512) * MIB,
        "maxdisk": maxdisk,
        "cpu": 0, "mem": 0, "swap": 0, "disk": 0, "uptime": 0,
        "diskread": 0, "diskwrite": 0, "netin": 0, "netout": 0,
    });
    if ct.is_running() {
        let uptime = ct.started_at.map_or(0, |t| (Sim::now() - t).max(0));
        let usage = Usage::at(ct.vmid, Sim::now(), uptime.unsigned_abs());
        let base = u64::from(ct.vmid % 97);
        row["cpu"] = json!(usage.cpu);
        row["mem"] = json!(usage.mem.min(config_num(ct, "memory", 512) * MIB));
        row["disk"] = json!(usage.disk.min(maxdisk));
        row["uptime"] = json!(uptime);
        row["pid"] = json!(ct.pid.unwrap_or(1));
        row["diskread"] = json!(120_000_000 + base * 1000);
        row["diskwrite"] = json!(30_000_000 + base * 1000);
        row["netin"] = json!(123_456 + uptime * 100);
        row["netout"] = json!(65_432 + uptime * 50);
        for key in [
            "pressurecpusome",
            "pressurecpufull",
            "pressureiosome",
            "pressureiofull",
            "pressurememorysome",
            "pressurememoryfull",
        ] {
            row[key] = json!(0);
        }
    }
    if let Some(tags) = ct.config.get("tags") {
        row["tags"] = json!(tags);
    }
    if let Some(lock) = &ct.lock {
        row["lock"] = json!(lock);
    }
    if ct.config.get("template").is_some_and(|t| t == "1") {
        row["template"] = json!(1);
    }
    row
}

pub fn list(ctx: &Ctx<'_>) -> ApiResult {
    let node = ctx.node();
    let privs = ctx.privs();
    let cts = ctx.sim.store.read(|s| {
        s.containers
            .values()
            .filter(|c| c.node == node)
            .cloned()
            .collect::<Vec<_>>()
    });
    let rows: Vec<Value> = cts
        .iter()
        .filter(|_| privs.has("VM.Audit"))
        .map(status_fields)
        .collect();
    Ok(ApiData::new(Value::Array(rows)))
}

pub fn create(ctx: &Ctx<'_>) -> ApiResult {
    let params: BTreeMap<String, String> = ctx
        .params
        .iter()
        .filter_map(|(k, v)| v.as_text().map(|t| (k.clone(), t)))
        .collect();
    let (node, authid, privs) = (ctx.node(), ctx.authid(), ctx.privs());
    let request = create::CreateRequest {
        node: &node,
        vmid: ctx.vmid(),
        params: &params,
        authid: &authid,
        privs: &privs,
    };
    create::create(ctx.sim, request).map(|upid| ApiData::new(json!(upid)))
}

pub fn current(ctx: &Ctx<'_>) -> ApiResult {
    let ct = lifecycle::load(ctx.sim, &ctx.node(), ctx.vmid())?;
    let mut data = status_fields(&ct);
    data["ha"] = json!({ "managed": 0 });
    Ok(ApiData::new(data))
}

/// A config value typed as PVE's JSON has it: integers and booleans as numbers.
fn typed(ctx: &Ctx<'_>, key: &str, value: &str) -> Value {
    match ctx.endpoint.return_type(key) {
        Some("integer" | "boolean") => value
            .parse::<i64>()
            .map_or_else(|_| json!(value), |n| json!(n)),
        Some("number") => value.parse::<f64>().map_or_else(
            |_| json!(value),
            |n| {
                if n.fract() == 0.0 {
                    json!(n as i64)
                } else {
                    json!(n)
                }
            },
        ),
        _ => json!(value),
    }
}

pub fn config(ctx: &Ctx<'_>) -> ApiResult {
    let ct = lifecycle::load(ctx.sim, &ctx.node(), ctx.vmid())?;
    if let Some(snapshot) = ctx.text("snapshot") {
        return Err(ApiError::internal(format!(
            "snapshot '{snapshot}' does not exist"
        )));
    }
    let mut data: Map<String, Value> = ct
        .config
        .iter()
        .map(|(k, v)| (k.clone(), typed(ctx, k, v)))
        .collect();
    data.insert("digest".into(), json!(ct.digest()));
    if let Some(lock) = &ct.lock {
        data.insert("lock".into(), json!(lock));
    }
    Ok(ApiData::new(Value::Object(data)))
}

pub fn interfaces(ctx: &Ctx<'_>) -> ApiResult {
    let ct = lifecycle::load(ctx.sim, &ctx.node(), ctx.vmid())?;
    if !ct.is_running() {
        return Ok(ApiData::new(Value::Null));
    }
    Ok(ApiData::new(addresses::interfaces(
        &ct,
        ctx.sim.ip_pool.prefix,
        Sim::now_ms(),
    )))
}

pub fn start(ctx: &Ctx<'_>) -> ApiResult {
    power::start(ctx.sim, &ctx.node(), ctx.vmid(), &ctx.authid())
        .map(|upid| ApiData::new(json!(upid)))
}

pub fn stop(ctx: &Ctx<'_>) -> ApiResult {
    power::stop(
        ctx.sim,
        &ctx.node(),
        ctx.vmid(),
        &ctx.authid(),
        StopKind::Stop,
    )
    .map(|upid| ApiData::new(json!(upid)))
}

pub fn shutdown(ctx: &Ctx<'_>) -> ApiResult {
    let kind = StopKind::Shutdown {
        timeout_secs: timeout_param(ctx).unwrap_or(power::SHUTDOWN_TIMEOUT_SECS),
        force: ctx.flag("forceStop"),
    };
    power::stop(ctx.sim, &ctx.node(), ctx.vmid(), &ctx.authid(), kind)
        .map(|upid| ApiData::new(json!(upid)))
}

pub fn reboot(ctx: &Ctx<'_>) -> ApiResult {
    power::reboot(
        ctx.sim,
        &ctx.node(),
        ctx.vmid(),
        &ctx.authid(),
        timeout_param(ctx),
    )
    .map(|upid| ApiData::new(json!(upid)))
}

/// The validated `timeout` parameter (seconds, at least 0).
fn timeout_param(ctx: &Ctx<'_>) -> Option<u64> {
    ctx.int("timeout").map(|t| u64::try_from(t).unwrap_or(0))
}

pub fn destroy(ctx: &Ctx<'_>) -> ApiResult {
    destroy::destroy(
        ctx.sim,
        &ctx.node(),
        ctx.vmid(),
        &ctx.authid(),
        ctx.flag("force"),
    )
    .map(|upid| ApiData::new(json!(upid)))
}
