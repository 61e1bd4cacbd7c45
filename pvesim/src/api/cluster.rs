//! `/cluster/nextid` and `/cluster/resources`.

use serde_json::{Value, json};

use super::Ctx;
use super::error::{ApiData, ApiError, ApiResult};
use super::lxc::status_fields;
use crate::inventory;

/// The lowest free VMID (as a string, like PVE), or the checked `vmid` if it is free.
pub fn nextid(ctx: &Ctx<'_>) -> ApiResult {
    let used = |vmid: u32| ctx.sim.store.read(|s| s.containers.contains_key(&vmid));
    if ctx.params.contains_key("vmid") {
        let vmid = ctx.vmid();
        if used(vmid) {
            return Err(ApiError::param("vmid", format!("VM {vmid} already exists")));
        }
        return Ok(ApiData::new(json!(vmid.to_string())));
    }
    let free = (100..1_000_000u32)
        .find(|v| !used(*v))
        .ok_or_else(|| ApiError::internal("unable to get any free VMID in range [100, 999999]"))?;
    Ok(ApiData::new(json!(free.to_string())))
}

/// `GET /cluster/resources` with the `type` filter (vm, storage, node).
pub fn resources(ctx: &Ctx<'_>) -> ApiResult {
    let want = ctx.text("type");
    let wants = |t: &str| want.as_deref().is_none_or(|w| w == t);
    let mut rows = Vec::new();
    if wants("vm") {
        let cts = ctx
            .sim
            .store
            .read(|s| s.containers.values().cloned().collect::<Vec<_>>());
        for ct in cts {
            let mut row = status_fields(&ct);
            row["id"] = json!(format!("lxc/{}", ct.vmid));
            row["node"] = json!(ct.node);
            row["maxcpu"] = row["cpus"].clone();
            if let Some(obj) = row.as_object_mut() {
                obj.remove("cpus");
                obj.remove("pid");
                obj.entry("template").or_insert(json!(0));
            }
            rows.push(row);
        }
    }
    for node in &ctx.sim.nodes {
        if wants("node") {
            rows.push(json!({
                "id": format!("node/{node}"), "type": "node", "node": node, "status": "online", "level": "",
                "cgroup-mode": 2, "cpu": 0.0061, "maxcpu": 4, "mem": 2_666_278_912u64, "maxmem": 17_179_869_184u64,
                "disk": 11_240_390_656u64, "maxdisk": 107_374_182_400u64, "uptime": ctx.sim.uptime(),
            }));
        }
        if wants("storage") {
            for s in inventory::STORAGES {
                rows.push(json!({
                    "id": format!("storage/{node}/{}", s.id), "type": "storage", "storage": s.id, "node": node,
                    "plugintype": s.kind, "content": s.content.join(","), "status": "available", "shared": 0,
                    "disk": 1_000_000_000u64, "maxdisk": s.total,
                }));
            }
        }
    }
    Ok(ApiData::new(Value::Array(rows)))
}
