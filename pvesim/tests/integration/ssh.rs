//! Containers are real SSH hosts: pinned host keys, password and key auth, exec with exit codes
//! and separate streamed stdout/stderr, SFTP, OpenSSH interop, stop/delete, the node's `pct`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::Rng;
use russh::keys::{HashAlg, PublicKey};

use crate::common::{self, Api, fingerprint_from_log, ssh_keygen};
use crate::sshc::{self, Cred};

/// A loopback address unlikely to clash with parallel tests.
fn loopback() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "127.{}.{}.{}",
        rng.gen_range(200..250),
        rng.gen_range(0..=255),
        rng.gen_range(2..250)
    )
}

fn fingerprint_of(openssh: &str) -> String {
    PublicKey::from_openssh(openssh)
        .expect("public key")
        .fingerprint(HashAlg::Sha256)
        .to_string()
}

/// OpenSSH's `ssh` with key auth and a pinned known_hosts file.
async fn openssh(
    key: &std::path::Path,
    known_hosts: &std::path::Path,
    ip: &str,
    port: u16,
) -> std::process::Output {
    tokio::process::Command::new("ssh")
        .arg("-i")
        .arg(key)
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-p",
            &port.to_string(),
            &format!("root@{ip}"),
            "cat /etc/hostname; echo oops >&2; exit 5",
        ])
        .output()
        .await
        .expect("ssh runs (apt-get install openssh-client)")
}

#[tokio::test]
async fn container_exec_sftp_and_openssh() {
    let dir = tempfile::tempdir().unwrap();
    let (key_path, public) = ssh_keygen(dir.path(), "id_client");
    let (other_key, _) = ssh_keygen(dir.path(), "id_other");
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    let ip = loopback();
    let net0 = format!("name=eth0,bridge=vmbr0,ip={ip}/8,gw=127.0.0.1");
    let upid = api
        .create_ct(
            100,
            &[
                ("hostname", "ct-web"),
                ("password", "s3cret-pw"),
                ("ssh-public-keys", public.as_str()),
                ("net0", net0.as_str()),
            ],
        )
        .await;
    let fingerprint = fingerprint_from_log(&api.task_log("pve", &upid).await);
    let host_key = sim.container_host_key(100).expect("host key");
    assert_eq!(fingerprint, fingerprint_of(&host_key));
    api.power(100, "start").await;
    let addr: SocketAddr = format!("{ip}:{}", sim.ssh_port).parse().unwrap();
    assert_eq!(sim.container_ssh_addr(100), Some(addr));
    let interfaces = api.get("/nodes/pve/lxc/100/interfaces", &[]).await;
    assert_eq!(interfaces.data()[1]["inet"], format!("{ip}/8"));

    assert!(
        sshc::connect(addr, &fingerprint, Cred::Password("wrong-pw"))
            .await
            .is_err()
    );
    assert!(
        sshc::connect(addr, &fingerprint, Cred::Key(&other_key))
            .await
            .is_err()
    );
    let wrong_pin = fingerprint_of(&sim.node_ssh_host_key.clone().unwrap());
    assert!(
        sshc::connect(addr, &wrong_pin, Cred::Password("s3cret-pw"))
            .await
            .is_err(),
        "a different host key is refused"
    );
    let by_password = sshc::connect(addr, &fingerprint, Cred::Password("s3cret-pw"))
        .await
        .expect("password auth");
    let out = sshc::exec(&by_password, "hostname; id -u", None).await;
    assert_eq!(out.stdout(), "ct-web\n0\n");
    sshc::close(by_password).await;

    let ssh = sshc::connect(addr, &fingerprint, Cred::Key(&key_path))
        .await
        .expect("key auth");
    let out = sshc::exec(&ssh, "echo out; echo err >&2; exit 3", None).await;
    assert_eq!(
        (out.stdout().as_str(), out.stderr().as_str(), out.code),
        ("out\n", "err\n", Some(3))
    );
    let out = sshc::exec(&ssh, "tr a-z A-Z", Some(b"hello stdin")).await;
    assert_eq!((out.stdout().as_str(), out.code), ("HELLO STDIN", Some(0)));
    let out = sshc::exec(&ssh, "echo first; sleep 2; echo second", None).await;
    assert_eq!(out.stdout(), "first\nsecond\n");
    let first = out.first_stdout_after.expect("output");
    assert!(
        first < Duration::from_millis(1500),
        "stdout is streamed, first bytes after {first:?}"
    );
    assert!(out.total >= Duration::from_secs(2));

    let sftp = sshc::sftp(&ssh).await;
    assert_eq!(sftp.canonicalize(".").await.unwrap(), "/root");
    assert_eq!(sftp.canonicalize("../../..").await.unwrap(), "/");
    sftp.create_dir("/srv/app").await.unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut file = sftp.create("/srv/app/config.txt").await.unwrap();
        file.write_all(b"key=value\n").await.unwrap();
        file.shutdown().await.unwrap();
    }
    assert_eq!(
        sftp.read("/srv/app/config.txt").await.unwrap(),
        b"key=value\n"
    );
    assert_eq!(
        sftp.metadata("/srv/app/config.txt").await.unwrap().size,
        Some(10)
    );
    sftp.rename("/srv/app/config.txt", "/srv/app/app.conf")
        .await
        .unwrap();
    let names: Vec<String> = sftp
        .read_dir("/srv/app")
        .await
        .unwrap()
        .map(|e| e.file_name())
        .collect();
    assert!(names.contains(&"app.conf".to_string()), "{names:?}");
    {
        use tokio::io::AsyncWriteExt;
        let mut script = sftp.create("/tmp/deploy.sh").await.unwrap();
        script
            .write_all(b"#!/bin/sh\necho deployed > /var/www/index.html\ncat /srv/app/app.conf\n")
            .await
            .unwrap();
        script.shutdown().await.unwrap();
    }
    assert!(
        sftp.read("/usr/bin/env").await.is_ok(),
        "/usr is the host's, readable"
    );
    assert!(
        sftp.create("/usr/bin/pvesim-test").await.is_err(),
        "/usr is read-only"
    );
    let out = sshc::exec(&ssh, "sh /tmp/deploy.sh && cat /var/www/index.html", None).await;
    assert_eq!(
        (out.stdout().as_str(), out.code),
        ("key=value\ndeployed\n", Some(0)),
        "stderr: {}",
        out.stderr()
    );
    sftp.remove_file("/srv/app/app.conf").await.unwrap();
    assert!(!sftp.try_exists("/srv/app/app.conf").await.unwrap());
    assert!(sim.container_root(100).join("var/www/index.html").exists());

    // OpenSSH's client, with the host key pinned in a known_hosts file.
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(
        &known_hosts,
        format!("[{ip}]:{} {host_key}\n", sim.ssh_port),
    )
    .unwrap();
    let out = openssh(&key_path, &known_hosts, &ip, sim.ssh_port).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ct-web\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("oops"));
    assert_eq!(out.status.code(), Some(5));
    let bad_known = dir.path().join("known_hosts_bad");
    std::fs::write(
        &bad_known,
        format!(
            "[{ip}]:{} {}\n",
            sim.ssh_port,
            sim.node_ssh_host_key.clone().unwrap()
        ),
    )
    .unwrap();
    let out = openssh(&key_path, &bad_known, &ip, sim.ssh_port).await;
    assert_eq!(
        out.status.code(),
        Some(255),
        "OpenSSH refuses a changed host key"
    );

    // Stopping ends sessions and the endpoint; deleting removes the root.
    let long = tokio::spawn(async move {
        let started = Instant::now();
        let out = sshc::exec(&ssh, "sleep 30; echo never", None).await;
        (started.elapsed(), out)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.power(100, "stop").await;
    let (elapsed, out) = long.await.unwrap();
    assert!(
        elapsed < Duration::from_secs(10),
        "a stop ends running commands"
    );
    assert_eq!(out.stdout(), "");
    assert!(
        sshc::connect(addr, &fingerprint, Cred::Key(&key_path))
            .await
            .is_err(),
        "no SSH while stopped"
    );
    assert!(sim.container_ssh_addr(100).is_none());
    let reply = api.delete("/nodes/pve/lxc/100").await;
    let log_upid = reply.data().as_str().unwrap().to_string();
    api.wait_task("pve", &log_upid).await;
    assert!(
        api.task_log("pve", &log_upid)
            .await
            .iter()
            .any(|l| l.contains("vm-100-disk-0"))
    );
    assert!(!sim.container_root(100).exists());
    sim.shutdown().await;
}

#[tokio::test]
async fn dhcp_container_is_reachable_on_its_leased_address() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    let upid = api
        .create_ct(
            100,
            &[
                ("password", "dhcp-pass"),
                ("net0", "name=eth0,bridge=vmbr0,ip=dhcp"),
            ],
        )
        .await;
    let fingerprint = fingerprint_from_log(&api.task_log("pve", &upid).await);
    api.power(100, "start").await;
    let mut addr = None;
    for _ in 0..60 {
        let interfaces = api.get("/nodes/pve/lxc/100/interfaces", &[]).await;
        if let Some(inet) = interfaces.data()[1]["inet"].as_str() {
            let ip = inet.split('/').next().unwrap();
            addr = Some(
                format!("{ip}:{}", sim.ssh_port)
                    .parse::<SocketAddr>()
                    .unwrap(),
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ssh = sshc::connect(
        addr.expect("leased"),
        &fingerprint,
        Cred::Password("dhcp-pass"),
    )
    .await
    .expect("ssh");
    let out = sshc::exec(&ssh, "hostname -I", None).await;
    assert_eq!(out.stdout(), format!("{} \n", addr.unwrap().ip()));
    sshc::close(ssh).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn node_ssh_pct_exec_and_push() {
    let dir = tempfile::tempdir().unwrap();
    let (key_path, public) = ssh_keygen(dir.path(), "id_node");
    let sim = common::start(common::builder().node_ssh_authorized_key(public).build()).await;
    let api = Api::token(&sim);
    api.create_ct(100, &[("hostname", "ct-app")]).await;
    api.power(100, "start").await;
    let node_addr = sim.node_ssh_addr.expect("node ssh");
    let node_fp = fingerprint_of(sim.node_ssh_host_key.as_deref().unwrap());

    assert!(
        sshc::connect(node_addr, &node_fp, Cred::Password("wrong"))
            .await
            .is_err()
    );
    let by_password = sshc::connect(node_addr, &node_fp, Cred::Password(common::ROOT_PASSWORD))
        .await
        .expect("root@pam password");
    sshc::close(by_password).await;
    let node = sshc::connect(node_addr, &node_fp, Cred::Key(&key_path))
        .await
        .expect("node key auth");

    let sftp = sshc::sftp(&node).await;
    {
        use tokio::io::AsyncWriteExt;
        let mut file = sftp.create("/tmp/app.conf").await.unwrap();
        file.write_all(b"port=8080\n").await.unwrap();
        file.shutdown().await.unwrap();
    }
    assert!(sim.node_root("pve").join("tmp/app.conf").exists());
    let out = sshc::exec(
        &node,
        "pct push 100 /tmp/app.conf /etc/app.conf --perms 0600 && pct exec 100 -- cat /etc/app.conf",
        None,
    )
    .await;
    assert_eq!(
        (out.stdout().as_str(), out.code),
        ("port=8080\n", Some(0)),
        "stderr: {}",
        out.stderr()
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(sim.container_root(100).join("etc/app.conf"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let out = sshc::exec(&node, "cat > /root/script.sh && pct push 100 /root/script.sh /root/script.sh && pct exec 100 -- sh /root/script.sh", Some(b"hostname; exit 9\n")).await;
    assert_eq!(
        (out.stdout().as_str(), out.code),
        ("ct-app\n", Some(9)),
        "stderr: {}",
        out.stderr()
    );
    let out = sshc::exec(
        &node,
        "pct exec 100 -- sh -c 'echo a && echo b'; echo after=$?",
        None,
    )
    .await;
    assert_eq!(out.stdout(), "a\nb\nafter=0\n");
    let out = sshc::exec(&node, "pct exec 999 -- true; echo rc=$?", None).await;
    assert_eq!(out.stdout(), "rc=255\n");
    assert!(
        out.stderr()
            .contains("Configuration file 'nodes/pve/lxc/999.conf' does not exist")
    );
    let out = sshc::exec(&node, "pct status 100", None).await;
    assert_eq!(out.stdout(), "status: running\n");
    api.power(100, "stop").await;
    let out = sshc::exec(&node, "pct exec 100 -- true", None).await;
    assert_eq!(
        (out.code, out.stderr().as_str()),
        (Some(255), "CT 100 not running\n")
    );
    sshc::close(node).await;
    sim.shutdown().await;
}
