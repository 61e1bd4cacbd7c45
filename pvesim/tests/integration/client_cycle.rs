//! The project's Proxmox client drives a full cycle against the simulator: preflight, create,
//! start, interfaces, SSH exec and SFTP, shutdown/stop, delete; static and DHCP addresses,
//! API token and ticket (password) auth.

use std::net::SocketAddr;
use std::time::Duration;

use pve_client::lxc::{CreateCt, GuestState, NetConfig, RootFs};
use pve_client::{Auth, ClientConfig, PveClient, TaskOutcome, Trust, Upid, connect, preflight};

use crate::common::{self, DEBIAN, fingerprint_from_log};
use crate::sshc::{self, Cred};

const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

async fn wait(client: &PveClient, upid: &Upid) -> (TaskOutcome, Vec<String>) {
    let mut lines = Vec::new();
    let outcome = client
        .wait_for_task(upid, POLL, WAIT, |l| lines.push(l.t.clone()))
        .await
        .expect("task succeeds");
    (outcome, lines)
}

/// Create → start → interfaces → SSH → stop → delete for one container.
async fn cycle(client: &PveClient, vmid: u32, net0: NetConfig, ssh_port: u16, graceful: bool) {
    let report = preflight(client, None).await.expect("preflight");
    assert!(report.can_create(), "{report}");
    assert!(client.next_vmid().await.expect("nextid") >= 100);

    let mut create = CreateCt::new(vmid, DEBIAN);
    create.hostname = Some(format!("ct{vmid}"));
    create.password = Some("cycle-pass".into());
    create.rootfs = Some(RootFs {
        storage: "local-lvm".into(),
        size_gib: 4,
    });
    create.cores = Some(2);
    create.memory_mib = Some(1024);
    create.net0 = Some(net0);
    create.features.nesting = true;
    create.tags = vec!["infrahaus".into()];
    let upid = client.lxc_create("pve", &create).await.expect("create");
    let (outcome, log) = wait(client, &upid).await;
    assert_eq!(outcome, TaskOutcome::Ok);
    assert_eq!(log.last().map(String::as_str), Some("TASK OK"));
    let fingerprint = fingerprint_from_log(&log);

    let config = client.lxc_config("pve", vmid).await.expect("config");
    assert_eq!(
        config.hostname.as_deref(),
        Some(format!("ct{vmid}").as_str())
    );
    assert_eq!(config.cores, Some(2));
    assert!(config.net0().expect("net0").hwaddr.is_some());

    let upid = client.lxc_start("pve", vmid).await.expect("start");
    assert_eq!(wait(client, &upid).await.0, TaskOutcome::Ok);
    let status = client.lxc_status("pve", vmid).await.expect("status");
    assert_eq!(status.status, GuestState::Running);

    let mut ip = None;
    for _ in 0..100 {
        let interfaces = client
            .lxc_interfaces("pve", vmid)
            .await
            .expect("interfaces");
        assert!(interfaces.iter().any(|i| i.is_loopback()));
        if let Some(found) = interfaces
            .iter()
            .find(|i| i.name == "eth0")
            .and_then(|i| i.ipv4())
        {
            ip = Some(found.to_string());
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    let ip = ip.expect("eth0 gets an IPv4 address");
    let addr: SocketAddr = format!("{ip}:{ssh_port}").parse().expect("address");

    let ssh = sshc::connect(addr, &fingerprint, Cred::Password("cycle-pass"))
        .await
        .expect("ssh");
    let sftp = sshc::sftp(&ssh).await;
    {
        use tokio::io::AsyncWriteExt;
        let mut file = sftp.create("/root/setup.sh").await.expect("upload");
        file.write_all(b"mkdir -p /etc/config-manager && echo ready > /etc/config-manager/state && cat /etc/config-manager/state\n")
            .await
            .expect("write");
        file.shutdown().await.expect("close");
    }
    let out = sshc::exec(&ssh, "bash /root/setup.sh && hostname", None).await;
    assert_eq!(
        (out.stdout().as_str(), out.code),
        (format!("ready\nct{vmid}\n").as_str(), Some(0))
    );
    assert_eq!(
        sftp.read("/etc/config-manager/state")
            .await
            .expect("download"),
        b"ready\n"
    );
    sshc::close(ssh).await;

    let upid = if graceful {
        client.lxc_shutdown("pve", vmid).await
    } else {
        client.lxc_stop("pve", vmid).await
    }
    .expect("stop");
    assert_eq!(wait(client, &upid).await.0, TaskOutcome::Ok);
    assert_eq!(
        client.lxc_status("pve", vmid).await.expect("status").status,
        GuestState::Stopped
    );
    assert!(
        client
            .lxc_interfaces("pve", vmid)
            .await
            .expect("interfaces")
            .is_empty()
    );

    let upid = client.lxc_delete("pve", vmid, true).await.expect("delete");
    assert_eq!(wait(client, &upid).await.0, TaskOutcome::Ok);
    assert!(
        client
            .lxc_list("pve")
            .await
            .expect("list")
            .iter()
            .all(|c| c.vmid != vmid)
    );
    assert!(client.lxc_status("pve", vmid).await.is_err());
}

#[tokio::test]
async fn pve_client_cycle_static_with_token_and_dhcp_with_ticket() {
    let sim = common::start(common::builder().build()).await;
    let host = sim.api_addr.ip().to_string();
    let port = sim.api_addr.port();
    let trust = || Trust::pinned(&sim.fingerprint).expect("fingerprint");

    let token = connect(
        &host,
        port,
        Auth::ApiToken {
            token_id: common::TOKEN_ID.into(),
            secret: common::TOKEN_SECRET.into(),
        },
        trust(),
    )
    .expect("token client");
    let static_ip = format!(
        "127.{}.{}.{}",
        180 + rand::random::<u8>() % 20,
        rand::random::<u8>(),
        2 + rand::random::<u8>() % 200
    );
    cycle(
        &token,
        100,
        NetConfig::static_ip("vmbr0", format!("{static_ip}/8"), None),
        sim.ssh_port,
        true,
    )
    .await;

    let config = ClientConfig::new(
        &host,
        port,
        Auth::Password {
            username: "root@pam".into(),
            password: common::ROOT_PASSWORD.into(),
        },
        trust(),
    );
    let ticket = PveClient::builder(config)
        .ticket_renew_after(Duration::ZERO)
        .build()
        .expect("ticket client");
    cycle(&ticket, 101, NetConfig::dhcp("vmbr0"), sim.ssh_port, false).await;

    let wrong_pin = connect(
        &host,
        port,
        Auth::ApiToken {
            token_id: common::TOKEN_ID.into(),
            secret: common::TOKEN_SECRET.into(),
        },
        Trust::pinned(&format!("{}AB", "AB:".repeat(31))).expect("fingerprint"),
    )
    .expect("client");
    assert!(
        wrong_pin.version().await.is_err(),
        "the client refuses a certificate with another fingerprint"
    );
    sim.shutdown().await;
}
