//! Reboot, shutdown time limits, usage figures that move, and the request counter, through
//! the API.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{self, Api};

/// The container's row in `GET /nodes/pve/lxc`.
async fn listed(api: &Api, vmid: u32) -> Value {
    let list = api.get("/nodes/pve/lxc", &[]).await;
    assert_eq!(list.status, 200, "{}", list.body);
    list.data()
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["vmid"] == vmid)
        .cloned()
        .unwrap_or_else(|| panic!("{vmid} is not listed: {}", list.body))
}

async fn current(api: &Api, vmid: u32) -> Value {
    let reply = api
        .get(&format!("/nodes/pve/lxc/{vmid}/status/current"), &[])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.data().clone()
}

/// Polls `status/current` until its uptime is at least `secs`; returns it.
async fn uptime_at_least(api: &Api, vmid: u32, secs: u64) -> Value {
    for _ in 0..300 {
        let now = current(api, vmid).await;
        if now["uptime"].as_u64().unwrap() >= secs {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the uptime of {vmid} never reached {secs} s");
}

/// Posts a power call and waits for its task; returns the UPID and the final status.
async fn power(api: &Api, vmid: u32, action: &str, params: &[(&str, &str)]) -> (String, Value) {
    let reply = api
        .post(&format!("/nodes/pve/lxc/{vmid}/status/{action}"), params)
        .await;
    assert_eq!(reply.status, 200, "{action}: {}", reply.body);
    let upid = reply.data().as_str().unwrap().to_owned();
    let status = api.wait_task("pve", &upid).await;
    (upid, status)
}

#[tokio::test]
async fn reboot_is_a_task_that_stops_and_starts_the_container_again() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    api.create_ct(120, &[("hostname", "web-1")]).await;

    let refused = api.post("/nodes/pve/lxc/120/status/reboot", &[]).await;
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert_eq!(refused.json["message"], "VM 120 not running\n");

    api.power(120, "start").await;
    let before = uptime_at_least(&api, 120, 2).await;
    let asked = Instant::now();
    let (upid, status) = power(&api, 120, "reboot", &[("timeout", "10")]).await;
    assert!(upid.contains(":vzreboot:120:"), "{upid}");
    assert_eq!(status["exitstatus"], "OK", "{status}");
    assert_eq!(status["type"], "vzreboot");
    assert_eq!(api.task_log("pve", &upid).await, ["TASK OK"]);

    let after = current(&api, 120).await;
    assert_eq!(after["status"], "running");
    assert_ne!(after["pid"], before["pid"], "a reboot starts a new init");
    let uptime = after["uptime"].as_u64().unwrap();
    assert!(
        uptime <= asked.elapsed().as_secs() + 1,
        "the uptime ({uptime} s) counts from before the reboot"
    );
    assert!(
        sim.container_ssh_addr(120).is_some(),
        "its SSH server is up"
    );

    let invalid = api
        .post("/nodes/pve/lxc/120/status/reboot", &[("timeout", "-1")])
        .await;
    assert_eq!(invalid.status, 400, "{}", invalid.body);
    assert!(invalid.json["errors"]["timeout"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_running_containers_usage_moves_and_a_stopped_one_uses_nothing() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    api.create_ct(121, &[("hostname", "db-1"), ("memory", "1024")])
        .await;
    api.power(121, "start").await;

    let first = listed(&api, 121).await;
    assert_eq!(first["status"], "running");
    let cpu = first["cpu"].as_f64().unwrap();
    assert!(cpu > 0.0 && cpu < 0.05, "cpu {cpu}");
    assert_eq!(first["maxmem"], 1024 * 1024 * 1024_u64);
    assert_eq!(first["maxdisk"], 8 * 1024 * 1024 * 1024_u64);
    for (used, max) in [("mem", "maxmem"), ("disk", "maxdisk")] {
        let (used, max) = (first[used].as_u64().unwrap(), first[max].as_u64().unwrap());
        assert!(used > 0 && used < max, "{used} of {max}");
    }

    let later = uptime_at_least(&api, 121, first["uptime"].as_u64().unwrap() + 2).await;
    assert!(
        later["disk"].as_u64() > first["disk"].as_u64(),
        "logs grow: {first} then {later}"
    );
    assert_eq!(later["maxmem"], first["maxmem"]);

    api.power(121, "stop").await;
    let stopped = listed(&api, 121).await;
    assert_eq!(stopped["status"], "stopped");
    for key in ["cpu", "mem", "disk", "uptime"] {
        assert_eq!(stopped[key], 0, "{key} of a stopped container: {stopped}");
    }
    assert_eq!(stopped["maxmem"], first["maxmem"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_container_that_ignores_shutdown_fails_it_after_the_timeout_unless_forced() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    api.create_ct(122, &[("hostname", "stuck-1")]).await;
    api.power(122, "start").await;
    std::fs::write(
        sim.container_root(122).join("etc/pvesim/ignore-shutdown"),
        "",
    )
    .unwrap();

    let (upid, status) = power(&api, 122, "shutdown", &[("timeout", "1")]).await;
    assert_eq!(status["exitstatus"], "container did not stop", "{status}");
    let log = api.task_log("pve", &upid).await;
    assert_eq!(
        log,
        [
            "command 'lxc-stop -n 122 --nokill --timeout 1' failed: exit code 1",
            "TASK ERROR: container did not stop",
        ]
    );
    assert_eq!(current(&api, 122).await["status"], "running");

    let (_, status) = power(
        &api,
        122,
        "shutdown",
        &[("timeout", "1"), ("forceStop", "1")],
    )
    .await;
    assert_eq!(status["exitstatus"], "OK", "{status}");
    assert_eq!(current(&api, 122).await["status"], "stopped");

    api.power(122, "start").await;
    let before = current(&api, 122).await;
    let (_, status) = power(&api, 122, "reboot", &[("timeout", "1")]).await;
    assert_eq!(
        status["exitstatus"], "OK",
        "a reboot kills it after the timeout"
    );
    let after = current(&api, 122).await;
    assert_eq!(after["status"], "running");
    assert_ne!(after["pid"], before["pid"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn requests_are_counted_by_method_and_path() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    for _ in 0..3 {
        assert_eq!(api.get("/nodes/pve/lxc", &[]).await.status, 200);
    }
    api.get("/version", &[]).await;
    api.get("/nodes/nope/lxc", &[]).await;
    assert_eq!(sim.request_count("GET", "/nodes/pve/lxc"), 3);
    assert_eq!(sim.request_count("GET", "/version"), 1);
    assert_eq!(sim.request_count("GET", "/nodes/nope/lxc"), 1);
    assert_eq!(sim.request_count("POST", "/nodes/pve/lxc"), 0);

    let counts: Value = common::https_client(&sim)
        .get(format!("{}/_sim/requests", sim.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["GET /nodes/pve/lxc"], 3);
    assert_eq!(counts["GET /version"], 1);
    sim.shutdown().await;
}
