//! Commands and file transfers stay inside the container root; the stand-in tools behave like
//! the real ones enough for a deployment pipeline.

use std::net::SocketAddr;

use crate::common::{self, Api, fingerprint_from_log};
use crate::sshc::{self, Cred, Pinned};

const PASSWORD: &str = "sandbox-pw";

async fn running_container(api: &Api, sim: &pvesim::SimHandle) -> russh::client::Handle<Pinned> {
    let upid = api
        .create_ct(100, &[("hostname", "ct-box"), ("password", PASSWORD)])
        .await;
    let fingerprint = fingerprint_from_log(&api.task_log("pve", &upid).await);
    api.power(100, "start").await;
    let addr: SocketAddr = sim.container_ssh_addr(100).expect("ssh address");
    sshc::connect(addr, &fingerprint, Cred::Password(PASSWORD))
        .await
        .expect("ssh")
}

/// Runs `cmd` in the container: stdout, stderr and the exit code (999 for none).
async fn run_in(ssh: &russh::client::Handle<Pinned>, cmd: &str) -> (String, String, u32) {
    let out = sshc::exec(ssh, cmd, None).await;
    (out.stdout(), out.stderr(), out.code.unwrap_or(999))
}

#[tokio::test]
async fn scripts_cannot_write_outside_the_container_root() {
    let outside = tempfile::tempdir().unwrap();
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    let ssh = running_container(&api, &sim).await;
    let root = sim.container_root(100);

    let host_target = outside.path().join("escaped-abs");
    let state_target = sim.state_dir.join("escaped-state");
    let script = format!(
        "echo x > {abs} 2>/dev/null; echo x > {state} 2>/dev/null; \
         cd /root && echo x > ../../../../../../{rel} 2>/dev/null; \
         mkdir -p /etc/config-manager && echo inside > /etc/config-manager/marker; \
         echo x > /proc/sys/kernel/hostname 2>/dev/null; echo x > /usr/escaped 2>/dev/null; \
         ls {outside_dir} >/dev/null 2>&1 && echo visible || echo hidden",
        abs = host_target.display(),
        state = state_target.display(),
        rel = outside
            .path()
            .join("escaped-rel")
            .display()
            .to_string()
            .trim_start_matches('/'),
        outside_dir = outside.path().display(),
    );
    let out = sshc::exec(&ssh, &script, None).await;
    assert_eq!(
        out.stdout(),
        "hidden\n",
        "host directories are not visible: {}",
        out.stderr()
    );
    assert!(!host_target.exists() && !state_target.exists());
    assert!(!outside.path().join("escaped-rel").exists());
    assert!(!std::path::Path::new("/usr/escaped").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("etc/config-manager/marker")).unwrap(),
        "inside\n"
    );

    // SFTP: `..` stops at the root, symlinks resolve inside the root.
    let sftp = sshc::sftp(&ssh).await;
    let rel = format!(
        "../../../../../../..{}",
        outside.path().join("sftp-rel").display()
    );
    sftp.create(rel.as_str()).await.err();
    assert!(!outside.path().join("sftp-rel").exists());
    let out = sshc::exec(
        &ssh,
        &format!(
            "ln -s / /root/hostroot && ln -s {} /root/out",
            outside.path().display()
        ),
        None,
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr());
    let _ = sftp.create("/root/out/sftp-link").await;
    assert!(
        !outside.path().join("sftp-link").exists(),
        "a symlink to a host path stays inside the root"
    );
    let _ = sftp.create("/root/hostroot/etc/sftp-etc").await;
    assert!(!std::path::Path::new("/etc/sftp-etc").exists());
    assert!(
        root.join("etc/sftp-etc").exists(),
        "the write landed in the container's /etc"
    );
    sshc::close(ssh).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn stand_in_tools() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    let ssh = running_container(&api, &sim).await;
    let run = |cmd: &'static str| run_in(&ssh, cmd);

    let (units, _, code) =
        run("systemctl list-units --type=service --state=running --no-legend --plain").await;
    assert_eq!(code, 0);
    let first_columns: Vec<&str> = units
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(first_columns, ["cron.service", "ssh.service"]);
    assert!(
        units.lines().all(|l| l.contains(" loaded active running ")),
        "{units}"
    );

    let (out, _, code) = run("apt-get update >/dev/null && apt-get install -y nginx curl").await;
    assert_eq!(code, 0);
    assert!(
        out.contains("Setting up nginx (1.22.1-9+deb12u3) ..."),
        "{out}"
    );
    let (out, _, _) =
        run("dpkg-query -W -f='${Status}' nginx; echo; dpkg -s curl | grep Status").await;
    assert_eq!(out, "install ok installed\nStatus: install ok installed\n");
    let (_, err, code) = run("apt-get install -y pvesim-missing-thing").await;
    assert_eq!(
        (code, err.trim()),
        (100, "E: Unable to locate package pvesim-missing-thing")
    );
    let (out, _, code) = run("systemctl is-active nginx; systemctl is-enabled nginx.service").await;
    assert_eq!((out.as_str(), code), ("active\nenabled\n", 0));
    let (_, err, code) = run("nginx -t").await;
    assert!(err.contains("test is successful") && code == 0);

    let (out, _, _) = run("ss -tlnp").await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("State") && lines[0].contains("Local Address:Port"));
    let nginx = lines
        .iter()
        .find(|l| l.contains("0.0.0.0:80 "))
        .expect("nginx listens on 80");
    assert!(nginx.starts_with("LISTEN") && nginx.contains("users:((\"nginx\",pid="));
    assert!(out.contains(&format!("0.0.0.0:{}", sim.ssh_port)));

    // A template script declares its own service and port.
    let (_, err, code) = run(
        "mkdir -p /opt/app && cat > /etc/systemd/system/app.service <<'EOF'\n[Unit]\nDescription=My App\n[Service]\nExecStart=/opt/app/run\nEOF\n\
         echo '3000 node' > /etc/pvesim/ports/app.service.ports && systemctl daemon-reload && systemctl enable --now app",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let (out, _, _) = run("ss -tlnp | grep ':3000 '").await;
    assert!(
        out.contains("0.0.0.0:3000") && out.contains("\"node\""),
        "{out}"
    );
    let (units, _, _) = run("systemctl list-units --type=service").await;
    assert!(
        units
            .lines()
            .any(|l| l.starts_with("  app.service ") && l.contains("loaded active running My App")),
        "{units}"
    );
    assert!(units.contains("loaded units listed"));
    let (_, err, code) = run("systemctl start nosuch").await;
    assert_eq!(
        (code, err.trim()),
        (
            5,
            "Failed to start nosuch.service: Unit nosuch.service not found."
        )
    );
    let (out, _, code) = run("systemctl stop app && systemctl is-active app").await;
    assert_eq!((out.as_str(), code), ("inactive\n", 3));

    let (out, _, _) = run("npm install -g pm2@5.3.0 && npm ls -g").await;
    assert!(
        out.contains("added 1 package in") && out.contains("pm2@5.3.0"),
        "{out}"
    );
    let (out, _, _) = run("pip3 install flask==3.0.0 requests && pip freeze").await;
    assert!(
        out.contains("flask==3.0.0") && out.contains("requests==1.0.0"),
        "{out}"
    );
    let (out, _, _) = run("hostname; hostname -I").await;
    let ip = sim.container_ssh_addr(100).unwrap().ip();
    assert_eq!(out, format!("ct-box\n{ip} \n"));

    // Services come back after a restart of the container; stopped units stay stopped.
    sshc::close(ssh).await;
    api.power(100, "stop").await;
    api.power(100, "start").await;
    let root = sim.container_root(100);
    assert!(
        root.join("var/lib/pvesim/systemd/active/nginx.service")
            .exists()
    );
    assert!(
        root.join("var/lib/pvesim/systemd/active/app.service")
            .exists(),
        "enabled units start at boot"
    );
    assert!(root.join("var/lib/dpkg-sim/installed/nginx").exists());
    sim.shutdown().await;
}

/// What a service-health check needs: a unit's state (active, inactive, failed) and its journal.
#[tokio::test]
async fn units_fail_when_killed_and_the_journal_says_why() {
    let sim = common::start(common::builder().build()).await;
    let api = Api::token(&sim);
    let ssh = running_container(&api, &sim).await;
    let run = |cmd: &'static str| run_in(&ssh, cmd);
    let (_, err, code) = run("apt-get install -y nginx >/dev/null").await;
    assert_eq!(code, 0, "{err}");
    let (out, _, _) = run("systemctl show --property=LoadState,ActiveState -- nginx.service").await;
    assert_eq!(out, "LoadState=loaded\nActiveState=active\n");
    let (out, _, _) = run("journalctl -u nginx -n 20 --no-pager").await;
    let started: Vec<&str> = out
        .lines()
        .map(|l| l.split_once(" systemd[1]: ").unwrap().1)
        .collect();
    assert_eq!(
        started,
        [
            "Starting nginx.service - A high performance web server and a reverse proxy server...",
            "Started nginx.service - A high performance web server and a reverse proxy server."
        ],
        "{out}"
    );
    assert!(
        out.lines().all(|l| l.contains(" ct-box systemd[1]: ")),
        "{out}"
    );

    // SIGKILL fails the unit; its port is gone from `ss`.
    let (_, err, code) = run("systemctl kill --signal=KILL nginx").await;
    assert_eq!(code, 0, "{err}");
    let (out, _, code) = run("systemctl is-active nginx").await;
    assert_eq!((out.as_str(), code), ("failed\n", 3));
    let (out, _, code) = run("systemctl is-failed nginx.service").await;
    assert_eq!((out.as_str(), code), ("failed\n", 0));
    let (out, _, _) = run("systemctl show -p ActiveState -p LoadState nginx").await;
    assert!(
        out.contains("ActiveState=failed\n") && out.contains("LoadState=loaded\n"),
        "{out}"
    );
    let (out, _, _) = run("systemctl list-units --type=service --no-legend --plain").await;
    assert!(
        out.lines()
            .any(|l| l.starts_with("nginx.service loaded failed failed ")),
        "{out}"
    );
    let (out, _, _) = run("ss -tln").await;
    assert!(!out.contains(":80 "), "{out}");
    let (out, _, _) = run("journalctl -u nginx.service -n 2 --no-pager").await;
    let tail: Vec<&str> = out
        .lines()
        .map(|l| l.split_once(" systemd[1]: ").unwrap().1)
        .collect();
    assert_eq!(
        tail,
        [
            "nginx.service: Main process exited, code=killed, status=9/KILL",
            "nginx.service: Failed with result 'signal'."
        ]
    );
    let (out, _, code) = run("systemctl status nginx").await;
    assert_eq!(code, 3);
    assert!(
        out.contains("Active: failed (Result: signal)")
            && out.contains("Failed with result 'signal'."),
        "{out}"
    );
    let (out, _, _) = run("journalctl -u nosuch --no-pager").await;
    assert_eq!(out, "-- No entries --\n");

    // Starting it again clears the failure; a clean stop leaves it inactive, not failed.
    let (out, _, _) = run("systemctl start nginx && systemctl is-active nginx").await;
    assert_eq!(out, "active\n");
    let (out, _, _) =
        run("systemctl stop nginx; systemctl is-active nginx; systemctl is-failed nginx").await;
    assert_eq!(out, "inactive\ninactive\n");
    let (out, _, _) = run("journalctl -u nginx -n 1 --no-pager").await;
    assert!(
        out.trim_end().ends_with(
            "Stopped nginx.service - A high performance web server and a reverse proxy server."
        ),
        "{out}"
    );
    let (out, _, _) =
        run("systemctl start nginx; systemctl kill nginx; systemctl is-active nginx").await;
    assert_eq!(out, "inactive\n", "SIGTERM ends a service cleanly");

    // A failed unit is forgotten when the container restarts; enabled units start again.
    let (_, _, code) = run("systemctl start nginx && systemctl kill -s SIGKILL nginx").await;
    assert_eq!(code, 0);
    sshc::close(ssh).await;
    api.power(100, "stop").await;
    api.power(100, "start").await;
    let systemd = sim.container_root(100).join("var/lib/pvesim/systemd");
    assert!(systemd.join("active/nginx.service").exists());
    assert!(!systemd.join("failed/nginx.service").exists());
    sim.shutdown().await;
}
