//! `/version`, `/nodes`, `/nodes/{node}/status`, `/nodes/{node}/network`, `/nodes/{node}/aplinfo`.

use serde_json::{Value, json};

use super::Ctx;
use super::error::{ApiData, ApiResult};
use crate::inventory;

const VERSION: &str = "9.1.1";
const REPOID: &str = "42d5d1c0a3b8f9e2";
const KERNEL_RELEASE: &str = "6.17.2-1-pve";
const KERNEL_VERSION: &str = "#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)";
const NODE_CPUS: u64 = 4;
const NODE_MEM: u64 = 16 * 1024 * 1024 * 1024;
const NODE_MEM_USED: u64 = 2_666_278_912;
const NODE_DISK: u64 = 100 * 1024 * 1024 * 1024;
const NODE_DISK_USED: u64 = 11_240_390_656;

pub fn version() -> ApiResult {
    Ok(ApiData::new(
        json!({ "version": VERSION, "release": "9.1", "repoid": REPOID }),
    ))
}

/// `GET /nodes`: every node online, with the API certificate's fingerprint.
pub fn list(ctx: &Ctx<'_>) -> ApiResult {
    let rows: Vec<Value> = ctx
        .sim
        .nodes
        .iter()
        .map(|node| {
            json!({
                "node": node, "status": "online", "id": format!("node/{node}"), "type": "node",
                "level": "", "cpu": 0.00616793893129771, "maxcpu": NODE_CPUS,
                "mem": NODE_MEM_USED, "maxmem": NODE_MEM, "disk": NODE_DISK_USED, "maxdisk": NODE_DISK,
                "uptime": ctx.sim.uptime(), "ssl_fingerprint": ctx.sim.fingerprint,
            })
        })
        .collect();
    Ok(ApiData::new(Value::Array(rows)))
}

/// `GET /nodes/{node}/status` in PVE 9's shape (numbers-as-strings where PVE sends strings).
pub fn status(ctx: &Ctx<'_>) -> ApiResult {
    Ok(ApiData::new(json!({
        "uptime": ctx.sim.uptime(),
        "idle": 0,
        "wait": 0.000_612_6,
        "cpu": 0.006_167_938_931_297_71,
        "loadavg": ["0.12", "0.08", "0.05"],
        "kversion": format!("Linux {KERNEL_RELEASE} {KERNEL_VERSION} x86_64"),
        "current-kernel": { "sysname": "Linux", "release": KERNEL_RELEASE, "version": KERNEL_VERSION, "machine": "x86_64" },
        "boot-info": { "mode": "efi", "secureboot": 0 },
        "pveversion": format!("pve-manager/{VERSION}/{REPOID}"),
        "cpuinfo": {
            "model": "Intel(R) Xeon(R) CPU E3-1230 v6 @ 3.50GHz", "sockets": 1, "cores": NODE_CPUS, "cpus": NODE_CPUS,
            "mhz": "3500.000", "hvm": "1", "user_hz": 100,
            "flags": "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc pni ssse3 sse4_1 sse4_2 x2apic aes avx avx2 hypervisor"
        },
        "memory": { "total": NODE_MEM, "used": NODE_MEM_USED, "free": NODE_MEM - NODE_MEM_USED, "available": NODE_MEM - NODE_MEM_USED },
        "swap": { "total": 0, "used": 0, "free": 0 },
        "rootfs": { "total": NODE_DISK, "used": NODE_DISK_USED, "free": NODE_DISK - NODE_DISK_USED, "avail": NODE_DISK - NODE_DISK_USED },
        "ksm": { "shared": 0 },
    })))
}

/// `GET /nodes/{node}/network` with PVE's `type` filter.
pub fn network(ctx: &Ctx<'_>) -> ApiResult {
    let wanted = ctx.text("type");
    let rows: Vec<Value> = inventory::network()
        .into_iter()
        .filter(|row| {
            let kind = row["type"].as_str().unwrap_or_default();
            match wanted.as_deref() {
                None => true,
                Some("any_bridge" | "any_local_bridge") => kind == "bridge" || kind == "OVSBridge",
                Some("include_sdn") => true,
                Some(t) => kind == t,
            }
        })
        .collect();
    Ok(ApiData::new(Value::Array(rows)))
}

pub fn aplinfo() -> ApiResult {
    Ok(ApiData::new(Value::Array(inventory::appliances())))
}
