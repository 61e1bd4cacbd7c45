//! `/nodes/{node}/storage` and `/nodes/{node}/storage/{storage}/content`.

use serde_json::{Value, json};

use super::Ctx;
use super::error::{ApiData, ApiError, ApiResult};
use crate::inventory::{self, Storage};
use crate::sim::Sim;

/// Bytes of a `size=8G` rootfs option.
pub fn rootfs_bytes(rootfs: &str) -> u64 {
    let size = rootfs
        .split(',')
        .find_map(|p| p.strip_prefix("size="))
        .unwrap_or("4G");
    let (num, unit) = size.split_at(
        size.find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(size.len()),
    );
    let n: f64 = num.parse().unwrap_or(4.0);
    let mult: f64 = match unit {
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => 1.0,
    };
    (n * mult) as u64
}

fn used_bytes(sim: &Sim, storage: &Storage) -> u64 {
    let volumes: u64 = sim.store.read(|s| {
        s.containers
            .values()
            .filter_map(|c| c.config.get("rootfs"))
            .filter(|r| r.starts_with(&format!("{}:", storage.id)))
            .map(|r| rootfs_bytes(r))
            .sum()
    });
    let templates: u64 = if storage.supports("vztmpl") {
        inventory::TEMPLATES.iter().map(|t| t.size).sum()
    } else {
        0
    };
    volumes + templates + 1_000_000_000
}

/// `GET /nodes/{node}/storage` with the `content`, `storage` and `enabled` filters.
pub fn list(ctx: &Ctx<'_>) -> ApiResult {
    let content = ctx.text("content");
    let only = ctx.text("storage");
    let privs = ctx.privs();
    let visible = privs.has("Datastore.Audit") || privs.has("Datastore.AllocateSpace");
    let rows: Vec<Value> = inventory::STORAGES
        .iter()
        .filter(|_| visible)
        .filter(|s| only.as_deref().is_none_or(|o| o == s.id))
        .filter(|s| {
            content.as_deref().is_none_or(|want| {
                want.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                    .filter(|w| !w.is_empty())
                    .any(|w| s.supports(w))
            })
        })
        .map(|s| {
            let used = used_bytes(ctx.sim, s);
            let mut row = json!({
                "storage": s.id, "type": s.kind, "content": s.content.join(","),
                "active": 1, "enabled": 1, "shared": 0,
                "total": s.total, "used": used, "avail": s.total.saturating_sub(used),
                "used_fraction": used as f64 / s.total as f64,
            });
            if ctx.flag("format") {
                row["formats"] = json!({ "default": "raw", "supported": ["raw", "subvol"] });
            }
            row
        })
        .collect();
    Ok(ApiData::new(Value::Array(rows)))
}

/// `GET /nodes/{node}/storage/{storage}/content`: templates, and container volumes.
pub fn content(ctx: &Ctx<'_>) -> ApiResult {
    let id = ctx.text("storage").unwrap_or_default();
    let storage = inventory::storage(&id)
        .ok_or_else(|| ApiError::internal(format!("storage '{id}' does not exist")))?;
    let want = ctx.text("content");
    let want_vmid = ctx.int("vmid");
    let mut rows = Vec::new();
    if storage.supports("vztmpl") {
        rows.extend(inventory::TEMPLATES.iter().map(|t| {
            json!({
                "volid": format!("{}:vztmpl/{}", storage.id, t.file), "content": "vztmpl",
                "format": inventory::template_format(t.file), "size": t.size, "ctime": t.ctime,
            })
        }));
    }
    if storage.supports("rootdir") {
        let node = ctx.node();
        let volumes: Vec<Value> = ctx.sim.store.read(|s| {
            s.containers
                .values()
                .filter(|c| c.node == node)
                .filter_map(|c| {
                    let rootfs = c.config.get("rootfs")?;
                    let volid = rootfs.split(',').next()?;
                    volid.starts_with(&format!("{}:", storage.id)).then(|| {
                        json!({
                            "volid": volid, "content": "rootdir", "format": "raw", "vmid": c.vmid,
                            "size": rootfs_bytes(rootfs), "ctime": c.started_at.unwrap_or(0),
                        })
                    })
                })
                .collect()
        });
        rows.extend(volumes);
    }
    rows.retain(|r| want.as_deref().is_none_or(|w| r["content"] == w));
    rows.retain(|r| want_vmid.is_none_or(|v| r["vmid"].as_i64() == Some(v)));
    Ok(ApiData::new(Value::Array(rows)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rootfs_sizes() {
        assert_eq!(
            super::rootfs_bytes("local-lvm:vm-100-disk-0,size=8G"),
            8 * 1024 * 1024 * 1024
        );
        assert_eq!(
            super::rootfs_bytes("local-lvm:vm-100-disk-0,size=512M"),
            512 * 1024 * 1024
        );
    }
}
