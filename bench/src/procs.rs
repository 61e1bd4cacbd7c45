//! The release binaries as separate processes, and what /proc says about them: resident memory
//! and TCP connections to Redis.

use anyhow::{Context, bail};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// Where the services and binaries are, shared by every section.
#[derive(Clone, Debug)]
pub struct Env {
    pub database_url: String,
    pub redis_url: String,
    pub bin_dir: PathBuf,
    pub site_root: PathBuf,
    /// Logs, the key file and other scratch files.
    pub work_dir: PathBuf,
}

impl Env {
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// The Redis port, from `REDIS_URL`.
    pub fn redis_port(&self) -> anyhow::Result<u16> {
        let rest = self
            .redis_url
            .split_once("://")
            .map_or(self.redis_url.as_str(), |(_, r)| r);
        let host_port = rest.rsplit('@').next().unwrap_or(rest);
        let host_port = host_port.split('/').next().unwrap_or(host_port);
        host_port
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .with_context(|| format!("REDIS_URL has no port: {}", self.redis_url))
    }

    /// A command for one of the binaries with the shared variables set.
    pub fn command(&self, bin: &str) -> Command {
        let mut command = Command::new(self.bin(bin));
        command
            .env("DATABASE_URL", &self.database_url)
            .env("REDIS_URL", &self.redis_url)
            .env("INFRAHAUS_SECRET_KEY_FILE", self.secret_key_file())
            .env("RUST_LOG", "warn")
            .kill_on_drop(true);
        command
    }
}

impl Env {
    /// The worker binary on its own queue namespace, with its deploy key in the work folder.
    pub fn worker_command(&self, queue_namespace: &str) -> Command {
        let mut command = self.command("worker");
        command
            .env("INFRAHAUS_WORKER_DEPLOY_KEY_FILE", self.deploy_key_file())
            .env("INFRAHAUS_QUEUE_NAMESPACE", queue_namespace);
        command
    }

    pub fn deploy_key_file(&self) -> PathBuf {
        self.work_dir.join("deploy_ed25519")
    }

    pub fn secret_key_file(&self) -> PathBuf {
        self.work_dir.join("secret.key")
    }
}

/// A running binary; killed when dropped.
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    /// Starts `command`, its stdout and stderr going to `WORK/NAME.log`.
    pub fn spawn(env: &Env, name: &str, mut command: Command) -> anyhow::Result<Proc> {
        let log = env.work_dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("could not start {name}"))?;
        Ok(Proc {
            name: name.to_owned(),
            child,
            log,
        })
    }

    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child
            .id()
            .with_context(|| format!("{} has exited", self.name))
    }

    /// Fails, pointing at the log, when the process has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); see {}",
                self.name,
                self.log.display()
            );
        }
        Ok(())
    }

    /// Resident memory in KiB (`VmRSS` of /proc/PID/status).
    pub fn rss_kib(&mut self) -> anyhow::Result<u64> {
        self.check_running()?;
        rss_kib(self.pid()?)
    }

    /// Resident memory once it has stopped changing by more than 1 % over a second (at most
    /// `limit`): allocators and runtimes finish their start-up work lazily.
    pub async fn settled_rss_kib(&mut self, limit: Duration) -> anyhow::Result<u64> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut last = self.rss_kib()?;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.rss_kib()?;
            if now.abs_diff(last) * 100 <= last || tokio::time::Instant::now() >= deadline {
                return Ok(now);
            }
            last = now;
        }
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// CPU time (user + system) a process has used, from /proc/PID/stat (100 ticks a second, as
/// on every Linux this runs on).
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .and_then(|v| v.parse().ok())
            .context("malformed /proc/PID/stat")
    };
    // utime and stime are fields 14 and 15, the 12th and 13th after the name.
    Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/PID/status")
}

/// Local ports of `pid`'s established TCP connections to `remote_port` on loopback.
pub fn connections_to(pid: u32, remote_port: u16) -> anyhow::Result<HashSet<u16>> {
    let inodes: HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))?
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let t = target.to_string_lossy().into_owned();
            Some(t.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let mut ports = HashSet::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for row in text.lines().skip(1) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
            if cols.len() > 9
                && cols[3] == "01"
                && port(cols[2]) == Some(remote_port)
                && inodes.contains(cols[9])
            {
                ports.extend(port(cols[1]));
            }
        }
    }
    Ok(ports)
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until `GET http://ADDR/health` answers 200, or fails after `limit`.
pub async fn wait_healthy(proc: &mut Proc, base_url: &str, limit: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        proc.check_running()?;
        if let Ok(response) = client.get(format!("{base_url}/health")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("{base_url}/health did not answer within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Fails early with a clear message when a binary has not been built.
pub fn require_binary(path: &Path) -> anyhow::Result<()> {
    if !path.is_file() {
        bail!(
            "{} is missing: build it first (scripts/bench.sh runs cargo build --release)",
            path.display()
        );
    }
    Ok(())
}
