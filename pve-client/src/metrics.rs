//! What the client records through the `metrics` facade (a no-op unless the process installed a
//! recorder): `infrahaus_pve_request_duration_seconds{method, endpoint, status}`, where
//! `endpoint` is the API path with its names and ids replaced (`/nodes/{node}/lxc/{vmid}/status/start`)
//! and `status` is the HTTP status, or `error` when no answer came.

use std::time::Duration;

/// Collections whose next path segment is one item's name or id, and what to call it.
const ITEMS: &[(&str, &str)] = &[
    ("nodes", "{node}"),
    ("lxc", "{vmid}"),
    ("qemu", "{vmid}"),
    ("storage", "{storage}"),
    ("content", "{volume}"),
    ("tasks", "{upid}"),
    ("network", "{iface}"),
];

/// `path` as a label: the segments that name one item replaced by a placeholder.
pub fn endpoint(path: &[&str]) -> String {
    let mut out = String::new();
    let mut item: Option<&str> = None;
    for segment in path {
        out.push('/');
        match item.take() {
            Some(placeholder) => out.push_str(placeholder),
            None => {
                out.push_str(segment);
                item = ITEMS.iter().find(|(c, _)| c == segment).map(|(_, p)| *p);
            }
        }
    }
    out
}

/// Records one API call.
pub(crate) fn record_call(method: &str, path: &[&str], status: Option<u16>, elapsed: Duration) {
    let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
    metrics::histogram!(
        "infrahaus_pve_request_duration_seconds",
        "method" => method.to_owned(),
        "endpoint" => endpoint(path),
        "status" => status,
    )
    .record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::endpoint;

    #[test]
    fn names_and_ids_become_placeholders() {
        assert_eq!(endpoint(&["version"]), "/version");
        assert_eq!(endpoint(&["cluster", "nextid"]), "/cluster/nextid");
        assert_eq!(endpoint(&["nodes"]), "/nodes");
        assert_eq!(
            endpoint(&["nodes", "pve1", "lxc", "105", "status", "start"]),
            "/nodes/{node}/lxc/{vmid}/status/start"
        );
        assert_eq!(
            endpoint(&["nodes", "pve1", "tasks", "UPID:pve1:0001:…", "status"]),
            "/nodes/{node}/tasks/{upid}/status"
        );
        assert_eq!(
            endpoint(&["nodes", "pve1", "storage", "local", "content"]),
            "/nodes/{node}/storage/{storage}/content"
        );
        assert_eq!(endpoint(&["nodes", "pve1", "lxc"]), "/nodes/{node}/lxc");
    }
}
