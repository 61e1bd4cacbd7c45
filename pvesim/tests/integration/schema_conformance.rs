//! Every endpoint: a valid call succeeds, and invalid ones (missing required, wrong type, out of
//! range, bad format, unknown parameter) get PVE's 400 envelope with PVE's message texts.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{self, Api, DEBIAN, Reply};

/// Asserts PVE's parameter error envelope with `message` for `field`.
#[track_caller]
fn assert_param_error(reply: &Reply, field: &str, message: &str) {
    assert_eq!(
        reply.status, 400,
        "expected 400 for {field}, got {}: {}",
        reply.status, reply.body
    );
    assert_eq!(reply.reason, "Parameter verification failed.");
    assert_eq!(reply.json["data"], Value::Null);
    assert_eq!(reply.json["message"], "Parameter verification failed.\n");
    assert_eq!(
        reply.json["errors"][field],
        json!(message),
        "errors: {}",
        reply.json["errors"]
    );
}

const UNKNOWN: &str =
    "property is not defined in schema and the schema does not allow additional properties";
const MISSING: &str = "property is missing and it is not optional";

#[tokio::test]
async fn read_endpoints_validate_parameters() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);

    let ok = api.get("/version", &[]).await;
    assert_eq!(ok.status, 200);
    assert_param_error(&api.get("/version", &[("foo", "1")]).await, "foo", UNKNOWN);

    assert_eq!(api.get("/nodes", &[]).await.status, 200);
    assert_param_error(&api.get("/nodes", &[("full", "1")]).await, "full", UNKNOWN);

    assert_eq!(api.get("/nodes/pve/status", &[]).await.status, 200);
    assert_param_error(
        &api.get("/nodes/pve/status", &[("x", "1")]).await,
        "x",
        UNKNOWN,
    );
    assert_param_error(
        &api.get("/nodes/pve/status", &[("node", "pve")]).await,
        "node",
        "duplicate parameter (already defined in URI)",
    );

    let storages = api
        .get("/nodes/pve/storage", &[("content", "vztmpl")])
        .await;
    assert_eq!(storages.status, 200);
    let ids: Vec<&str> = storages
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["storage"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["local"]);
    let rootdir = api
        .get("/nodes/pve/storage", &[("content", "rootdir")])
        .await;
    assert_eq!(rootdir.data()[0]["storage"], "local-lvm");
    assert_param_error(
        &api.get("/nodes/pve/storage", &[("content", "bogus")]).await,
        "content",
        "invalid format - invalid content type 'bogus'\n",
    );
    assert_param_error(
        &api.get("/nodes/pve/storage", &[("enabled", "yes")]).await,
        "enabled",
        "type check ('boolean') failed - got 'yes'",
    );

    let content = api
        .get("/nodes/pve/storage/local/content", &[("content", "vztmpl")])
        .await;
    assert_eq!(content.status, 200);
    assert!(
        content
            .data()
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["volid"] == DEBIAN)
    );
    assert_param_error(
        &api.get("/nodes/pve/storage/local/content", &[("vmid", "abc")])
            .await,
        "vmid",
        "type check ('integer') failed - got 'abc'",
    );
    assert_param_error(
        &api.get("/nodes/pve/storage/local/content", &[("content", "nope")])
            .await,
        "content",
        "invalid format - invalid content type 'nope'\n",
    );

    assert_eq!(
        api.get("/nodes/pve/network", &[("type", "bridge")])
            .await
            .data()[0]["iface"],
        "vmbr0"
    );
    assert_param_error(
        &api.get("/nodes/pve/network", &[("type", "foo")]).await,
        "type",
        "value 'foo' does not have a value in the enumeration 'bridge, bond, eth, alias, vlan, fabric, OVSBridge, OVSBond, OVSPort, OVSIntPort, vnet, any_bridge, any_local_bridge, include_sdn'",
    );

    assert_eq!(api.get("/cluster/nextid", &[]).await.data(), "100");
    assert_eq!(
        api.get("/cluster/nextid", &[("vmid", "12345")])
            .await
            .data(),
        "12345"
    );
    assert_param_error(
        &api.get("/cluster/nextid", &[("vmid", "99")]).await,
        "vmid",
        "invalid format - value does not look like a valid VM ID\n",
    );
    assert_param_error(
        &api.get("/cluster/nextid", &[("vmid", "12x")]).await,
        "vmid",
        "type check ('integer') failed - got '12x'",
    );

    assert_eq!(
        api.get("/cluster/resources", &[("type", "vm")])
            .await
            .status,
        200
    );
    assert_param_error(
        &api.get("/cluster/resources", &[("type", "foo")]).await,
        "type",
        "value 'foo' does not have a value in the enumeration 'vm, storage, node, sdn'",
    );

    assert_eq!(api.get("/nodes/pve/aplinfo", &[]).await.status, 200);
    assert_param_error(
        &api.get("/nodes/pve/aplinfo", &[("x", "1")]).await,
        "x",
        UNKNOWN,
    );

    assert_eq!(
        api.get("/access/permissions", &[("path", "/vms")])
            .await
            .status,
        200
    );
    assert_param_error(
        &api.get("/access/permissions", &[("userid", "not a user")])
            .await,
        "userid",
        "value does not match the regex pattern",
    );

    assert_eq!(
        api.get("/nodes/pve/tasks", &[("source", "all")])
            .await
            .status,
        200
    );
    assert_param_error(
        &api.get("/nodes/pve/tasks", &[("source", "foo")]).await,
        "source",
        "value 'foo' does not have a value in the enumeration 'archive, active, all'",
    );
    assert_param_error(
        &api.get("/nodes/pve/tasks", &[("limit", "-5")]).await,
        "limit",
        "value must have a minimum value of 0",
    );

    assert_eq!(api.get("/nodes/pve/lxc", &[]).await.status, 200);
    assert_param_error(
        &api.get("/nodes/pve/lxc", &[("full", "1")]).await,
        "full",
        UNKNOWN,
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn ticket_validates_parameters() {
    let sim = common::start(common::builder().build()).await;
    let anon = Api::new(&sim, common::Auth::None);
    let ok = anon
        .post(
            "/access/ticket",
            &[
                ("username", "root@pam"),
                ("password", common::ROOT_PASSWORD),
            ],
        )
        .await;
    assert_eq!(ok.status, 200);
    let realm = anon
        .post(
            "/access/ticket",
            &[
                ("username", "root"),
                ("realm", "pam"),
                ("password", common::ROOT_PASSWORD),
            ],
        )
        .await;
    assert_eq!(realm.data()["username"], "root@pam");
    assert_param_error(
        &anon
            .post("/access/ticket", &[("username", "root@pam")])
            .await,
        "password",
        MISSING,
    );
    assert_param_error(
        &anon
            .post(
                "/access/ticket",
                &[
                    ("username", "root@pam"),
                    ("password", "x"),
                    ("new-format", "true"),
                ],
            )
            .await,
        "new-format",
        "type check ('boolean') failed - got 'true'",
    );
    assert_param_error(
        &anon
            .post(
                "/access/ticket",
                &[
                    ("username", "root@pam"),
                    ("password", "x"),
                    ("path", "/vms"),
                ],
            )
            .await,
        "privs",
        "missing property - 'path' requires this property",
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn lxc_create_validates_parameters() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    let create = |extra: &[(&'static str, &'static str)]| {
        let mut params = vec![
            ("ostemplate", DEBIAN),
            ("vmid", "150"),
            ("rootfs", "local-lvm:4"),
        ];
        for (k, v) in extra {
            params.retain(|(pk, _)| pk != k);
            params.push((k, v));
        }
        let api = api.clone();
        async move { api.post("/nodes/pve/lxc", &params).await }
    };

    let missing = api.post("/nodes/pve/lxc", &[("vmid", "150")]).await;
    assert_param_error(&missing, "ostemplate", MISSING);
    assert_param_error(
        &create(&[("vmid", "1000000000")]).await,
        "vmid",
        "invalid format - value does not look like a valid VM ID\n",
    );
    assert_param_error(
        &create(&[("vmid", "abc")]).await,
        "vmid",
        "type check ('integer') failed - got 'abc'",
    );
    assert_param_error(
        &create(&[("memory", "8")]).await,
        "memory",
        "value must have a minimum value of 16",
    );
    assert_param_error(
        &create(&[("cores", "9000")]).await,
        "cores",
        "value must have a maximum value of 8192",
    );
    assert_param_error(
        &create(&[("password", "abc")]).await,
        "password",
        "value must be at least 5 characters long",
    );
    assert_param_error(&create(&[("bogus", "1")]).await, "bogus", UNKNOWN);
    assert_param_error(&create(&[("net32", "name=eth0")]).await, "net32", UNKNOWN);
    assert_param_error(
        &create(&[("start", "true")]).await,
        "start",
        "type check ('boolean') failed - got 'true'",
    );
    assert_param_error(
        &create(&[("hostname", "bad_host")]).await,
        "hostname",
        "invalid format - value does not look like a valid DNS name\n",
    );
    assert_param_error(
        &create(&[("cmode", "x")]).await,
        "cmode",
        "value 'x' does not have a value in the enumeration 'shell, console, tty'",
    );
    assert_param_error(
        &create(&[("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.5")]).await,
        "net0",
        "invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n",
    );
    assert_param_error(
        &create(&[("net0", "bridge=vmbr0")]).await,
        "net0",
        "invalid format - format error\nnet0.name: property is missing and it is not optional\n",
    );
    let long = "x".repeat(8193);
    let reply = api
        .post(
            "/nodes/pve/lxc",
            &[
                ("ostemplate", DEBIAN),
                ("vmid", "150"),
                ("description", long.as_str()),
            ],
        )
        .await;
    assert_param_error(
        &reply,
        "description",
        "value may only be 8192 characters long",
    );

    // JSON bodies may use true/false; numbers may be JSON numbers.
    let reply = api
        .call_json(
            Method::POST,
            "/nodes/pve/lxc",
            &json!({ "vmid": 150, "ostemplate": DEBIAN, "rootfs": "local-lvm:4", "unprivileged": true, "start": false }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let status = api.wait_task("pve", reply.data().as_str().unwrap()).await;
    assert_eq!(status["exitstatus"], "OK");
    let reply = api
        .call_json(
            Method::POST,
            "/nodes/pve/lxc",
            &json!({ "vmid": 151, "ostemplate": DEBIAN, "start": "yes" }),
        )
        .await;
    assert_param_error(&reply, "start", "type check ('boolean') failed - got 'yes'");
    let reply = api
        .call_json(
            Method::POST,
            "/nodes/pve/lxc",
            &json!({ "vmid": true, "ostemplate": DEBIAN }),
        )
        .await;
    assert_param_error(
        &reply,
        "vmid",
        "type check ('integer') failed - got JSON::PP::Boolean",
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn lxc_instance_endpoints_validate_parameters() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    let create_upid = api
        .create_ct(100, &[("hostname", "ct-a"), ("password", "secret1")])
        .await;

    assert_eq!(
        api.get("/nodes/pve/lxc/100/status/current", &[])
            .await
            .status,
        200
    );
    assert_param_error(
        &api.get("/nodes/pve/lxc/abc/status/current", &[]).await,
        "vmid",
        "type check ('integer') failed - got 'abc'",
    );
    assert_eq!(
        api.get("/nodes/pve/lxc/100/config", &[("current", "1")])
            .await
            .status,
        200
    );
    assert_param_error(
        &api.get("/nodes/pve/lxc/100/config", &[("current", "2")])
            .await,
        "current",
        "type check ('boolean') failed - got '2'",
    );
    assert_param_error(
        &api.get("/nodes/pve/lxc/100/config", &[("snapshot", "1abc")])
            .await,
        "snapshot",
        "invalid format - invalid configuration ID '1abc'\n",
    );
    assert_eq!(
        api.get("/nodes/pve/lxc/100/interfaces", &[]).await.status,
        200
    );
    assert_param_error(
        &api.get("/nodes/pve/lxc/100/interfaces", &[("x", "1")])
            .await,
        "x",
        UNKNOWN,
    );

    assert_param_error(
        &api.post("/nodes/pve/lxc/100/status/start", &[("skiplock", "maybe")])
            .await,
        "skiplock",
        "type check ('boolean') failed - got 'maybe'",
    );
    api.power(100, "start").await;
    assert_param_error(
        &api.post(
            "/nodes/pve/lxc/100/status/stop",
            &[("overrule-shutdown", "2")],
        )
        .await,
        "overrule-shutdown",
        "type check ('boolean') failed - got '2'",
    );
    api.power(100, "stop").await;
    api.power(100, "start").await;
    assert_param_error(
        &api.post("/nodes/pve/lxc/100/status/shutdown", &[("timeout", "-1")])
            .await,
        "timeout",
        "value must have a minimum value of 0",
    );
    assert_param_error(
        &api.post(
            "/nodes/pve/lxc/100/status/shutdown",
            &[("forceStop", "yes")],
        )
        .await,
        "forceStop",
        "type check ('boolean') failed - got 'yes'",
    );
    let upid = api
        .post(
            "/nodes/pve/lxc/100/status/shutdown",
            &[("timeout", "30"), ("forceStop", "1")],
        )
        .await;
    assert_eq!(
        api.wait_task("pve", upid.data().as_str().unwrap()).await["exitstatus"],
        "OK"
    );

    let task = common::encode_segment(&create_upid);
    assert_eq!(
        api.get(&format!("/nodes/pve/tasks/{task}/status"), &[])
            .await
            .status,
        200
    );
    assert_param_error(
        &api.get(&format!("/nodes/pve/tasks/{task}/status"), &[("x", "1")])
            .await,
        "x",
        UNKNOWN,
    );
    assert_eq!(
        api.get(
            &format!("/nodes/pve/tasks/{task}/log"),
            &[("start", "1"), ("limit", "2")]
        )
        .await
        .status,
        200
    );
    assert_param_error(
        &api.get(&format!("/nodes/pve/tasks/{task}/log"), &[("start", "-1")])
            .await,
        "start",
        "value must have a minimum value of 0",
    );
    assert_param_error(
        &api.get(&format!("/nodes/pve/tasks/{task}/log"), &[("limit", "x")])
            .await,
        "limit",
        "type check ('integer') failed - got 'x'",
    );

    assert_param_error(
        &api.call(Method::DELETE, "/nodes/pve/lxc/100", &[("force", "2")])
            .await,
        "force",
        "type check ('boolean') failed - got '2'",
    );
    let reply = api
        .call(Method::DELETE, "/nodes/pve/lxc/100", &[("purge", "1")])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        api.wait_task("pve", reply.data().as_str().unwrap()).await["exitstatus"],
        "OK"
    );
    sim.shutdown().await;
}
