//! Container (and node) root directories and the bubblewrap sandbox commands run in them.
//!
//! A sandbox sees its root directory as `/`, the host's `/usr` read-only (with the root's own
//! `/usr/local` bound over `/usr/local`, writable), fresh `/proc` and `/dev`, and its own PID,
//! IPC and UTS namespaces (hostname = the container's). `/tmp` is the root's own `tmp`
//! directory, not a tmpfs, so files uploaded there over SFTP are visible to commands.

pub mod standins;

use std::path::Path;

use tokio::process::Command;

/// PATH inside the sandbox; `/usr/local/sbin` (the stand-ins) comes first.
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Whether `bwrap` can be found on PATH.
pub fn bwrap_available() -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join("bwrap").is_file()))
        .unwrap_or(false)
}

/// A root directory to run commands in.
pub struct Sandbox<'a> {
    pub root: &'a Path,
    pub hostname: &'a str,
}

impl Sandbox<'_> {
    /// `bwrap ... -- argv` with a clean environment (PATH, HOME=/root, USER=root, plus `env`).
    pub fn command(&self, argv: &[String], env: &[(String, String)]) -> Command {
        if let Err(e) = usr_links(self.root) {
            tracing::warn!(root = %self.root.display(), error = %e, "cannot create /bin, /lib, ... links");
        }
        let mut cmd = Command::new("bwrap");
        cmd.env_clear();
        cmd.arg("--bind").arg(self.root).arg("/");
        cmd.args(["--ro-bind", "/usr", "/usr"]);
        cmd.arg("--bind")
            .arg(self.root.join("usr/local"))
            .arg("/usr/local");
        cmd.args(["--ro-bind-try", "/etc/alternatives", "/etc/alternatives"]);
        cmd.args(["--proc", "/proc", "--dev", "/dev"]);
        cmd.args([
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--hostname",
            self.hostname,
        ]);
        cmd.args([
            "--die-with-parent",
            "--new-session",
            "--chdir",
            "/root",
            "--",
        ]);
        cmd.args(argv);
        let defaults = [
            ("PATH", PATH),
            ("HOME", "/root"),
            ("USER", "root"),
            ("LOGNAME", "root"),
            ("SHELL", "/bin/bash"),
            ("LANG", "C.UTF-8"),
        ];
        for (k, v) in defaults {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }
}

/// `/bin`, `/lib`, `/lib64`, `/sbin` as links into `/usr`, like a merged-/usr Debian.
/// (bwrap 0.8's `--symlink` fails when the link already exists, so the root keeps them.)
fn usr_links(root: &Path) -> std::io::Result<()> {
    for (link, target) in [
        ("bin", "usr/bin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
        ("sbin", "usr/sbin"),
    ] {
        let path = root.join(link);
        if std::fs::symlink_metadata(&path).is_err() {
            std::os::unix::fs::symlink(target, &path)?;
        }
    }
    std::fs::create_dir_all(root.join("usr/local"))
}

/// The container's ed25519 host key, relative to its root; its sshd loads it at start.
pub const HOST_KEY_FILE: &str = "etc/ssh/ssh_host_ed25519_key";

/// What goes into a new container root.
pub struct RootSpec<'a> {
    pub hostname: &'a str,
    pub os_release: &'a str,
    pub debian: bool,
    pub authorized_keys: &'a [String],
    /// The ed25519 host key in OpenSSH private key format (written 0600 next to its `.pub`).
    pub host_private_key: &'a str,
    pub host_public_key: &'a str,
    pub ssh_port: u16,
}

const BASE_PACKAGES: &[(&str, &str)] = &[
    ("bash", "5.2.15-2+b7"),
    ("coreutils", "9.1-1"),
    ("cron", "3.0pl1-162"),
    ("openssh-server", "1:9.2p1-2+deb12u5"),
    ("systemd", "252.33-1~deb12u1"),
    ("ca-certificates", "20230311"),
];

fn write(path: &Path, content: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, content)
}

fn mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Creates the usual Debian layout, users, SSH files, base units and the stand-ins.
pub fn create_container_root(root: &Path, spec: &RootSpec<'_>) -> std::io::Result<()> {
    for dir in [
        "etc/ssh",
        "etc/systemd/system",
        "etc/pvesim/ports",
        "root/.ssh",
        "home",
        "srv",
        "opt",
        "tmp",
        "run",
        "mnt",
        "media",
        "var/tmp",
        "var/log",
        "var/www",
        "var/cache",
        "var/lib/pvesim/systemd/enabled",
        "var/lib/pvesim/systemd/active",
        "var/lib/pvesim/systemd/failed",
        "var/lib/dpkg-sim/installed",
        "usr/local/bin",
        "usr/local/sbin",
        "usr/local/share",
        "usr/local/lib/systemd/system",
    ] {
        std::fs::create_dir_all(root.join(dir))?;
    }
    usr_links(root)?;
    mode(&root.join("tmp"), 0o1777)?;
    mode(&root.join("var/tmp"), 0o1777)?;
    mode(&root.join("root"), 0o700)?;
    mode(&root.join("root/.ssh"), 0o700)?;

    write(&root.join("etc/hostname"), &format!("{}\n", spec.hostname))?;
    write(
        &root.join("etc/hosts"),
        &hosts_file(spec.hostname, "127.0.1.1"),
    )?;
    write(&root.join("etc/os-release"), spec.os_release)?;
    if spec.debian {
        write(&root.join("etc/debian_version"), "12.7\n")?;
    }
    write(
        &root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    )?;
    write(
        &root.join("etc/group"),
        "root:x:0:\ndaemon:x:1:\nwww-data:x:33:\nnogroup:x:65534:\n",
    )?;
    write(&root.join("etc/resolv.conf"), "nameserver 127.0.0.53\n")?;
    let host_key = root.join(HOST_KEY_FILE);
    write(&host_key, spec.host_private_key)?;
    mode(&host_key, 0o600)?;
    write(
        &root.join("etc/ssh/ssh_host_ed25519_key.pub"),
        &format!("{}\n", spec.host_public_key),
    )?;
    let keys = root.join("root/.ssh/authorized_keys");
    write(
        &keys,
        &spec
            .authorized_keys
            .iter()
            .map(|k| format!("{k}\n"))
            .collect::<String>(),
    )?;
    mode(&keys, 0o600)?;

    let units = root.join("usr/local/lib/systemd/system");
    write(
        &units.join("ssh.service"),
        "[Unit]\nDescription=OpenBSD Secure Shell server\n\n[Service]\nExecStart=/usr/sbin/sshd -D\n\n[Install]\nWantedBy=multi-user.target\n",
    )?;
    write(
        &units.join("cron.service"),
        "[Unit]\nDescription=Regular background program processing daemon\n\n[Service]\nExecStart=/usr/sbin/cron -f\n\n[Install]\nWantedBy=multi-user.target\n",
    )?;
    for unit in ["ssh.service", "cron.service"] {
        write(&root.join("var/lib/pvesim/systemd/enabled").join(unit), "")?;
    }
    write(
        &root.join("etc/pvesim/ports/ssh.service.ports"),
        &format!(
            "# the simulator's SSH port for this container\n0.0.0.0:{port} sshd\n[::]:{port} sshd\n",
            port = spec.ssh_port
        ),
    )?;
    for (pkg, version) in BASE_PACKAGES {
        write(
            &root.join("var/lib/dpkg-sim/installed").join(pkg),
            &format!("{version}\n"),
        )?;
    }
    standins::install(root)
}

fn hosts_file(hostname: &str, ip: &str) -> String {
    format!("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n{ip} {hostname}\n")
}

/// Boot: record the address, refresh the stand-ins, start the enabled units.
pub fn on_start(
    root: &Path,
    hostname: &str,
    ip: Option<std::net::Ipv4Addr>,
) -> std::io::Result<()> {
    let ip = ip.map(|i| i.to_string()).unwrap_or_default();
    write(&root.join("etc/pvesim/ip"), &format!("{ip}\n"))?;
    if !ip.is_empty() {
        write(&root.join("etc/hosts"), &hosts_file(hostname, &ip))?;
    }
    standins::install(root)?;
    let enabled = root.join("var/lib/pvesim/systemd/enabled");
    let active = root.join("var/lib/pvesim/systemd/active");
    std::fs::create_dir_all(&active)?;
    if let Ok(entries) = std::fs::read_dir(&enabled) {
        for entry in entries.flatten() {
            std::fs::write(active.join(entry.file_name()), "")?;
        }
    }
    Ok(())
}

/// Shutdown: every unit stops, and failed ones are forgotten (a boot starts afresh).
pub fn on_stop(root: &Path) -> std::io::Result<()> {
    for state in ["active", "failed"] {
        let dir = root.join("var/lib/pvesim/systemd").join(state);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                std::fs::remove_file(entry.path())?;
            }
        }
    }
    Ok(())
}

/// The node's scratch filesystem (what `pct push` reads from).
pub fn create_node_root(root: &Path, node: &str) -> std::io::Result<()> {
    for dir in [
        "root",
        "tmp",
        "var/tmp",
        "var/lib/vz/template/cache",
        "etc",
        "usr/local/sbin",
    ] {
        std::fs::create_dir_all(root.join(dir))?;
    }
    usr_links(root)?;
    mode(&root.join("tmp"), 0o1777)?;
    write(&root.join("etc/hostname"), &format!("{node}\n"))?;
    write(
        &root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\n",
    )?;
    write(&root.join("etc/group"), "root:x:0:\n")
}
