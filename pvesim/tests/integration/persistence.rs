//! State survives a restart with the same state directory: containers (running ones come back
//! up with the same host key), tasks, the certificate fingerprint, and tickets.

use std::net::SocketAddr;

use crate::common::{self, Api, Auth, fingerprint_from_log};
use crate::sshc::{self, Cred};

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = || common::builder().state_dir(dir.path()).build();

    let sim = common::start(config()).await;
    let api = Api::token(&sim);
    let upid = api
        .create_ct(100, &[("hostname", "ct-keep"), ("password", "keep-pass")])
        .await;
    api.create_ct(101, &[("hostname", "ct-off")]).await;
    api.power(100, "start").await;
    let fingerprint = fingerprint_from_log(&api.task_log("pve", &upid).await);
    let addr: SocketAddr = sim.container_ssh_addr(100).unwrap();
    let ssh = sshc::connect(addr, &fingerprint, Cred::Password("keep-pass"))
        .await
        .unwrap();
    assert_eq!(
        sshc::exec(&ssh, "echo kept > /root/data", None).await.code,
        Some(0)
    );
    sshc::close(ssh).await;
    let ticket_api = Api::login(&sim, "root@pam", common::ROOT_PASSWORD).await;
    let cert_fingerprint = sim.fingerprint.clone();
    let ssh_port = sim.ssh_port;
    sim.shutdown().await;

    let sim = common::start(
        common::builder()
            .state_dir(dir.path())
            .ssh_port(ssh_port)
            .build(),
    )
    .await;
    assert_eq!(sim.fingerprint, cert_fingerprint, "the certificate is kept");
    let api = Api::token(&sim);
    let list = api.get("/nodes/pve/lxc", &[]).await;
    let mut rows: Vec<(u64, String)> = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["vmid"].as_u64().unwrap(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [(100, "running".to_string()), (101, "stopped".to_string())]
    );
    assert_eq!(
        api.wait_task("pve", &upid).await["exitstatus"],
        "OK",
        "tasks are kept"
    );
    assert_eq!(api.get("/cluster/nextid", &[]).await.data(), "102");

    assert_eq!(
        sim.container_ssh_addr(100),
        Some(addr),
        "the address is kept"
    );
    let ssh = sshc::connect(addr, &fingerprint, Cred::Password("keep-pass"))
        .await
        .expect("same host key after restart");
    assert_eq!(
        sshc::exec(&ssh, "cat /root/data", None).await.stdout(),
        "kept\n"
    );
    sshc::close(ssh).await;

    let Auth::Ticket { ticket, csrf } = ticket_api.auth.clone() else {
        unreachable!()
    };
    let reused = Api::new(&sim, Auth::Ticket { ticket, csrf });
    assert_eq!(
        reused.get("/version", &[]).await.status,
        200,
        "tickets survive a restart"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("state.json")).unwrap()).unwrap();
    assert!(state["containers"]["100"].is_object());
    sim.shutdown().await;
}
