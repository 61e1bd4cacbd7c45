//! The whole pipeline against the simulator, with a static address and with DHCP.

use std::time::Duration;

use backend::crypto::Purpose;
use backend::models::{CredentialRow, ServiceRow};
use backend::schema::container_credentials as credentials;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::container::{Lifecycle, Phase};
use domain::event::{EventKind, LogStream};
use domain::spec::Ipv4Setup;
use worker::pipeline::checkpoint::Checkpoint;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_container_is_created_deployed_and_ready() {
    let cidr = static_cidr();
    let ip = cidr.split('/').next().unwrap().to_owned();
    end_to_end(
        Ipv4Setup::Static {
            cidr,
            gateway: None,
        },
        Some(ip),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dhcp_container_gets_its_address_from_the_interfaces() {
    end_to_end(Ipv4Setup::Dhcp, None).await;
}

async fn end_to_end(ipv4: Ipv4Setup, expected_ip: Option<String>) {
    let world = World::start(WorldOptions::default()).await;
    let vmid = 120;
    let spec = full_spec(world.node_id, vmid, ipv4);
    let worker = world
        .runner(world.settings(), Duration::from_secs(30))
        .await;
    let id = world.create(&spec).await;
    let row = world.wait_finished(id).await;
    let transcript = world.transcript(id).await;
    let name = if expected_ip.is_some() {
        "static"
    } else {
        "dhcp"
    };
    std::fs::write(
        testkit::output_dir().join(format!("worker-transcript-{name}.txt")),
        &transcript,
    )
    .unwrap();
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    assert_eq!(row.error_message, None);

    // The row: password gone, address and pinned host key stored, every step checkpointed.
    assert!(
        row.root_password_enc.is_none(),
        "the root password is erased"
    );
    let ip = row.ip_address.clone().expect("an IP address");
    if let Some(expected) = expected_ip {
        assert_eq!(ip, expected);
    } else {
        assert!(
            ip.starts_with("127."),
            "a pool address from /interfaces: {ip}"
        );
    }
    let pinned = remote_shell::HostKey::parse(row.ssh_host_key.as_deref().expect("pinned"));
    let presented = remote_shell::HostKey::parse(&world.sim.container_host_key(vmid).unwrap());
    assert_eq!(
        pinned.unwrap(),
        presented.unwrap(),
        "the container's host key is pinned"
    );
    assert!(
        transcript.contains("confirmed through the Proxmox node"),
        "the host key is checked through the node: {transcript}"
    );
    world.assert_own_ssh_key(id, vmid).await;
    let checkpoint = Checkpoint::from_json(&row.checkpoint);
    assert_eq!(checkpoint.done, Some(Phase::Finalize));
    assert_eq!(checkpoint.scripts_done, 3);

    // Events: phases in order, percent never going back, scripts named, output streamed.
    let events = world.events(id).await;
    assert_eq!(
        phases(&events),
        [
            Phase::Create,
            Phase::Start,
            Phase::Deploy,
            Phase::Sync,
            Phase::Finalize
        ],
        "{transcript}"
    );
    for pair in events.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1, "{transcript}");
        assert!(pair[1].percent >= pair[0].percent, "{transcript}");
    }
    let last = events.last().unwrap();
    assert_eq!((last.kind, last.percent), (EventKind::Complete, 100));
    assert!(last.message.contains(&ip), "{}", last.message);
    let scripts: Vec<(String, u32, u32)> = events
        .iter()
        .filter(|e| e.kind == EventKind::Step)
        .filter_map(|e| e.script.as_ref())
        .map(|s| (s.name.clone(), s.index, s.total))
        .collect();
    assert_eq!(
        scripts,
        [
            ("10-web.sh".into(), 1, 3),
            ("20-credential.sh".into(), 2, 3),
            ("30-report.sh".into(), 3, 3),
        ]
    );
    let logs = |stream: LogStream| -> Vec<&str> {
        events
            .iter()
            .filter(|e| e.kind == EventKind::Log && e.stream == Some(stream))
            .map(|e| e.message.as_str())
            .collect()
    };
    assert!(
        logs(LogStream::Stdout).contains(&"nginx is active"),
        "{transcript}"
    );
    assert!(
        logs(LogStream::Stderr).contains(&"a warning on stderr"),
        "{transcript}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.script.as_ref().is_some_and(|s| s.name == "10-web.sh")
                && e.message == "nginx is active"),
        "script output carries its script"
    );
    assert!(
        logs(LogStream::Stdout)
            .iter()
            .any(|l| l.starts_with("Setting up nginx")),
        "apt output is streamed: {transcript}"
    );
    assert!(
        !transcript.contains(ROOT_PASSWORD),
        "the root password never reaches an event"
    );
    assert!(
        transcript.contains("root password would be ********"),
        "{transcript}"
    );
    // A credential a script prints is hidden: in the stored events of the script that wrote it
    // (scrubbed once the worker learns it) and in every later one.
    assert!(!transcript.contains(CREDENTIAL_VALUE), "{transcript}");
    assert!(
        transcript.contains("credential written: ********"),
        "{transcript}"
    );
    assert!(
        transcript.contains("admin password is ********"),
        "{transcript}"
    );
    assert!(
        !transcript.contains("40-disabled.sh"),
        "disabled scripts do not run"
    );

    // Credentials sealed at rest; services with ports and a web URL.
    let mut conn = world.db.get().await.unwrap();
    assert_eq!(
        CredentialRow::names(&mut conn, id).await.unwrap(),
        ["admin-password"]
    );
    let revealed = CredentialRow::reveal(&mut conn, &world.secrets, id, "admin-password")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revealed.value, CREDENTIAL_VALUE);
    let stored: Vec<Vec<u8>> = credentials::table
        .filter(credentials::container_id.eq(id))
        .select(credentials::value_enc)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        !stored[0]
            .windows(CREDENTIAL_VALUE.len())
            .any(|w| w == CREDENTIAL_VALUE.as_bytes()),
        "the credential is stored sealed"
    );
    assert_eq!(
        world
            .secrets
            .open_str(Purpose::ContainerCredential, &stored[0])
            .unwrap(),
        CREDENTIAL_VALUE
    );
    let services = ServiceRow::list(&mut conn, id).await.unwrap();
    let nginx = services
        .iter()
        .find(|s| s.name == "nginx")
        .unwrap_or_else(|| panic!("nginx found: {services:?}"));
    assert_eq!(nginx.port, Some(80));
    assert_eq!(
        nginx.url.as_deref(),
        Some(format!("http://{ip}:80/").as_str())
    );
    assert!(
        services.iter().all(|s| s.name != "ssh" && s.name != "cron"),
        "system services are filtered out: {services:?}"
    );
    drop(conn);

    // Inside the container: files by policy, config-manager, packages.
    assert_eq!(
        world.read(vmid, "/var/www/html/index.html").as_deref(),
        Some("<h1>It works</h1>\n")
    );
    assert_eq!(
        world.read(vmid, "/etc/hostname").as_deref(),
        Some("web-1\n"),
        "policy default keeps an existing file"
    );
    assert_eq!(
        world.read(vmid, "/root/.gitconfig").as_deref(),
        Some("[user]\n\tname = Dev\n"),
        "policy default writes a missing file"
    );
    assert_eq!(
        world.read(vmid, "/etc/resolv.conf").as_deref(),
        Some("# Managed by infrahaus\nnameserver 1.1.1.1\n")
    );
    assert_eq!(
        world.read(vmid, "/etc/resolv.conf.bak").as_deref(),
        Some("nameserver 127.0.0.53\n"),
        "policy backup keeps the old file"
    );
    let env = world.read(vmid, "/etc/config-manager/config.env").unwrap();
    assert!(
        env.contains(&format!("INFRAHAUS_CONTAINER_ID='{id}'")),
        "{env}"
    );
    assert!(
        world
            .read(vmid, "/var/log/config-manager/last-sync")
            .is_some()
    );
    assert!(
        world
            .read(
                vmid,
                "/var/lib/pvesim/systemd/enabled/config-manager.service"
            )
            .is_some(),
        "config-manager.service is enabled"
    );
    assert!(
        world
            .read(vmid, "/var/lib/dpkg-sim/installed/nginx")
            .is_some()
    );
    assert!(
        world
            .read(vmid, "/var/lib/dpkg-sim/installed/git")
            .is_some()
    );
    assert_eq!(
        world.read(vmid, "/var/lib/pvesim/pip/black").as_deref(),
        Some("24.8.0\n")
    );
    assert!(world.read(vmid, "/var/lib/pvesim/pip/httpie").is_some());
    assert_eq!(
        world
            .read(vmid, "/usr/local/lib/node_modules/left-pad/package.json")
            .as_deref(),
        Some("{\"name\":\"left-pad\",\"version\":\"1.3.0\"}\n")
    );
    assert_eq!(
        world.read(vmid, "/opt/custom/mytool").as_deref(),
        Some("2\n"),
        "custom packages go through the template's install-custom.sh"
    );

    // Created once, and the job is gone from the queue.
    assert_eq!(world.create_tasks(vmid).await, 1);
    assert_eq!(world.containers_with(vmid).await, 1);
    let report = worker.stop().await;
    assert_eq!(report.done, 1, "{report:?}");
    assert_eq!(
        world
            .queue
            .enqueue(&backend::queue::Job { container_id: id })
            .await
            .unwrap(),
        backend::queue::Enqueued::Added,
        "the finished job was acked"
    );
}
