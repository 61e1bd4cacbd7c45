//! UPIDs, task status and logs, and injected delays/failures/warnings.

use std::time::Duration;

use serde_json::json;

use crate::common::{self, Api, DEBIAN, encode_segment};
use crate::envelopes::fixture;

#[tokio::test]
async fn upids_status_and_log_paging() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    let upid = api.create_ct(100, &[("hostname", "ct-web")]).await;
    let re = regex::Regex::new(
        r"^UPID:pve:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:vzcreate:100:root@pam!ci:$",
    )
    .unwrap();
    assert!(re.is_match(&upid), "{upid}");

    let status = api.wait_task("pve", &upid).await;
    assert_eq!(status["user"], "root@pam");
    assert_eq!(status["tokenid"], "ci");
    assert_eq!(status["id"], "100", "task id is a string");
    assert!(status["pid"].is_u64() && status["pstart"].is_u64() && status["starttime"].is_i64());
    let fields: Vec<&str> = upid.split(':').collect();
    assert_eq!(
        u64::from_str_radix(fields[2], 16).unwrap(),
        status["pid"].as_u64().unwrap()
    );
    assert_eq!(
        i64::from_str_radix(fields[4], 16).unwrap(),
        status["starttime"].as_i64().unwrap()
    );

    let log = api.task_log("pve", &upid).await;
    assert_eq!(
        log.first().unwrap(),
        "extracting archive '/var/lib/vz/template/cache/debian-12-standard_12.7-1_amd64.tar.zst'"
    );
    assert!(
        log.iter()
            .any(|l| l == "Detected container architecture: amd64")
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with("done: SHA256:") && l.ends_with(" root@ct-web"))
    );
    assert_eq!(log.last().unwrap(), "TASK OK");

    let page = api
        .get(
            &format!("/nodes/pve/tasks/{}/log", encode_segment(&upid)),
            &[("start", "1"), ("limit", "2")],
        )
        .await;
    assert_eq!(page.json["total"], log.len());
    let lines = page.data().as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["n"], 2);
    assert_eq!(lines[1]["t"], log[2].as_str());

    let unknown = upid.replace(":vzcreate:100:", ":vzstart:100:");
    let reply = api
        .get(
            &format!("/nodes/pve/tasks/{}/status", encode_segment(&unknown)),
            &[],
        )
        .await;
    assert_eq!(
        (reply.status, reply.json["errors"]["upid"].as_str()),
        (400, Some("no such task"))
    );
    let reply = api.get("/nodes/pve/tasks/UPID:garbage/status", &[]).await;
    assert_eq!(reply.json["errors"]["upid"], "unable to parse worker upid");

    let list = api.get("/nodes/pve/tasks", &[("vmid", "100")]).await;
    assert_eq!(list.data()[0]["upid"], upid.as_str());
    assert_eq!(list.data()[0]["status"], "OK");
    assert!(list.data()[0]["endtime"].is_i64());
    sim.shutdown().await;
}

#[tokio::test]
async fn running_task_has_no_exitstatus_and_an_empty_log() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    api.create_ct(100, &[]).await;
    api.faults(&json!({ "task_delay_ms": { "vzstart": 1500 } }))
        .await;
    let upid = api
        .post("/nodes/pve/lxc/100/status/start", &[])
        .await
        .data()
        .as_str()
        .unwrap()
        .to_string();
    let status = api
        .get(
            &format!("/nodes/pve/tasks/{}/status", encode_segment(&upid)),
            &[],
        )
        .await;
    assert_eq!(status.data()["status"], "running");
    assert!(status.data().get("exitstatus").is_none());
    let log = api
        .get(
            &format!("/nodes/pve/tasks/{}/log", encode_segment(&upid)),
            &[],
        )
        .await;
    assert_eq!(
        log.json,
        fixture("GET_nodes_node_tasks_upid_log.empty.json")
    );
    let current = api.get("/nodes/pve/lxc/100/status/current", &[]).await;
    assert_eq!(
        current.data()["status"],
        "stopped",
        "not running before the start task ends"
    );
    assert_eq!(api.wait_task("pve", &upid).await["exitstatus"], "OK");
    assert_eq!(
        api.get("/nodes/pve/lxc/100/status/current", &[])
            .await
            .data()["status"],
        "running"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_failures_and_warnings() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    let faults = api
        .faults(&json!({ "fail_next": { "vzcreate": "lvcreate failed" } }))
        .await;
    assert_eq!(faults["fail_next"]["vzcreate"], "lvcreate failed");
    let reply = api
        .post(
            "/nodes/pve/lxc",
            &[
                ("vmid", "300"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:4"),
            ],
        )
        .await;
    let upid = reply.data().as_str().unwrap().to_string();
    let status = api.wait_task("pve", &upid).await;
    assert_eq!(
        status["exitstatus"],
        "unable to create CT 300 - lvcreate failed"
    );
    assert_eq!(
        api.task_log("pve", &upid).await.last().unwrap(),
        &format!("TASK ERROR: {}", status["exitstatus"].as_str().unwrap())
    );
    let gone = api.get("/nodes/pve/lxc/300/status/current", &[]).await;
    assert_eq!(gone.status, 500, "a failed create leaves no container");

    // The failure was one-shot.
    api.create_ct(300, &[]).await;

    api.faults(&json!({ "warn_next": { "vzstart": 2 } })).await;
    let upid = api
        .post("/nodes/pve/lxc/300/status/start", &[])
        .await
        .data()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        api.wait_task("pve", &upid).await["exitstatus"],
        "WARNINGS: 2"
    );
    let log = api.task_log("pve", &upid).await;
    assert_eq!(log.iter().filter(|l| l.starts_with("WARN: ")).count(), 2);
    assert_eq!(log.last().unwrap(), "TASK WARNINGS: 2");

    sim.update_faults(pvesim::FaultsPatch {
        fail_next: [("vzstop".to_string(), String::new())].into(),
        ..Default::default()
    });
    let upid = api
        .post("/nodes/pve/lxc/300/status/stop", &[])
        .await
        .data()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        api.wait_task("pve", &upid).await["exitstatus"],
        "unable to stop container 300"
    );
    assert_eq!(
        api.get("/nodes/pve/lxc/300/status/current", &[])
            .await
            .data()["status"],
        "running"
    );

    // A start with a bridge that does not exist fails in the task, as on PVE.
    api.create_ct(301, &[("net0", "name=eth0,bridge=vmbr9,ip=dhcp")])
        .await;
    let upid = api
        .post("/nodes/pve/lxc/301/status/start", &[])
        .await
        .data()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        api.wait_task("pve", &upid).await["exitstatus"],
        "bridge 'vmbr9' does not exist"
    );
    let reset = reqwest_delete(&api, &sim).await;
    assert_eq!(reset["dhcp_lease_ms"], 300);
    sim.shutdown().await;
}

async fn reqwest_delete(api: &Api, sim: &pvesim::SimHandle) -> serde_json::Value {
    let client = common::https_client(sim);
    let resp = client
        .delete(format!("{}/_sim/faults", api.base_url))
        .send()
        .await
        .unwrap();
    resp.json().await.unwrap()
}

#[tokio::test]
async fn create_with_start_and_slow_tasks() {
    let faults = pvesim::Faults {
        task_delay_ms: [("vzcreate".to_string(), 400)].into(),
        ..pvesim::Faults::fast()
    };
    let sim = common::start(common::builder().faults(faults).build()).await;
    let api = Api::token(&sim);
    let reply = api
        .post(
            "/nodes/pve/lxc",
            &[
                ("vmid", "100"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:4"),
                ("start", "1"),
            ],
        )
        .await;
    let upid = reply.data().as_str().unwrap().to_string();
    let locked = api.get("/nodes/pve/lxc/100/status/current", &[]).await;
    assert_eq!(locked.data()["lock"], "create");
    let start = api.post("/nodes/pve/lxc/100/status/start", &[]).await;
    assert_eq!(start.json["message"], "CT is locked (create)\n");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(api.wait_task("pve", &upid).await["exitstatus"], "OK");
    let current = api.get("/nodes/pve/lxc/100/status/current", &[]).await;
    assert_eq!(current.data()["status"], "running");
    assert!(current.data().get("lock").is_none());
    sim.shutdown().await;
}
