//! Templates: the list, a template's detail, the create/edit form; and package buckets.

pub mod buckets;
pub mod detail;
pub mod edit;
pub mod fields;
pub mod files;
pub mod form;
pub mod list;
pub mod packages;
pub mod scripts;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The `:id` of the route, when it has one (`/templates/new` has none).
pub fn route_id() -> Memo<Option<String>> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("id")))
}

/// Memory as people read it: `512 MiB`, `2 GiB`.
pub fn memory_text(mib: u32) -> String {
    if mib >= 1024 && mib.is_multiple_of(1024) {
        format!("{} GiB", mib / 1024)
    } else {
        format!("{mib} MiB")
    }
}

/// `2 cores · 2 GiB RAM · 8 GiB disk`.
pub fn resources_text(cores: u32, memory_mib: u32, disk_gib: u32) -> String {
    let cores = if cores == 1 {
        "1 core".to_owned()
    } else {
        format!("{cores} cores")
    };
    format!(
        "{cores} · {} RAM · {disk_gib} GiB disk",
        memory_text(memory_mib)
    )
}

/// `1 script`, `3 files`.
pub fn count_text(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
