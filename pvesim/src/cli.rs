//! Command line of the `pvesim` binary.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::config::{IpPool, PrivSpec, SimConfig, TokenSpec, UserSpec};
use crate::error::SimError;
use crate::faults::Faults;

/// A Proxmox VE simulator: the PVE API over HTTPS, and containers that are real SSH hosts.
#[derive(Debug, Parser)]
#[command(name = "pvesim", version)]
pub struct Args {
    /// API listen address.
    #[arg(long, default_value = "127.0.0.1:8006")]
    pub listen: SocketAddr,
    /// State directory (containers, tasks, certificate, container roots).
    #[arg(long)]
    pub state_dir: PathBuf,
    /// API token `user@realm!id=SECRET` (repeatable).
    #[arg(long = "token", value_name = "SPEC")]
    pub tokens: Vec<TokenSpec>,
    /// Password user `user@realm:PASSWORD` (repeatable).
    #[arg(long = "user", value_name = "SPEC")]
    pub users: Vec<UserSpec>,
    /// Restrict a user or token: `AUTHID=ROLE|PRIV[,ROLE|PRIV...]` (repeatable), e.g.
    /// `ci@pve!ro=PVEAuditor` or `root@pam!deploy=PVEVMAdmin,PVEDatastoreUser`.
    #[arg(long = "privs", value_name = "SPEC")]
    pub privileges: Vec<PrivSpec>,
    /// Node name (repeatable; default `pve`).
    #[arg(long = "node", value_name = "NAME")]
    pub nodes: Vec<String>,
    /// Port of every container's SSH server (a real container uses 22).
    #[arg(long, default_value_t = 2222)]
    pub ssh_port: u16,
    /// Loopback range for container addresses (DHCP and non-loopback static IPs).
    #[arg(long, default_value = "127.77.0.0/16")]
    pub ip_pool: IpPool,
    /// The node's SSH endpoint for `pct exec` / `pct push`.
    #[arg(long, value_name = "ADDR:PORT")]
    pub node_ssh: Option<SocketAddr>,
    /// authorized_keys file for root on the node SSH endpoint (the root@pam password works too).
    #[arg(long, value_name = "FILE")]
    pub node_ssh_key: Option<PathBuf>,
    /// Task duration per type, `vzcreate=3000` (milliseconds; repeatable).
    #[arg(long = "task-delay", value_name = "TYPE=MS")]
    pub task_delays: Vec<String>,
    /// Delay until a DHCP interface has an address (milliseconds).
    #[arg(long)]
    pub dhcp_lease_ms: Option<u64>,
    /// Make the next task of TYPE fail, optionally with MESSAGE (repeatable).
    #[arg(long = "fail-next", value_name = "TYPE[=MESSAGE]")]
    pub fail_next: Vec<String>,
    /// Make the next task of TYPE end with `WARNINGS: N` (default 1; repeatable).
    #[arg(long = "warn-next", value_name = "TYPE[=N]")]
    pub warn_next: Vec<String>,
    /// Use short test delays instead of realistic ones.
    #[arg(long)]
    pub fast: bool,
    /// Delay of 401 answers (PVE waits about 3 s).
    #[arg(long, default_value_t = 3000)]
    pub auth_fail_delay_ms: u64,
}

fn pairs<T>(
    items: &[String],
    what: &'static str,
    parse: impl Fn(Option<&str>) -> Option<T>,
) -> Result<BTreeMap<String, T>, SimError> {
    items
        .iter()
        .map(|item| {
            let (key, value) = item
                .split_once('=')
                .map_or((item.as_str(), None), |(k, v)| (k, Some(v)));
            let parsed = parse(value).ok_or_else(|| SimError::InvalidSpec {
                what,
                value: item.clone(),
                reason: "bad value".into(),
            })?;
            Ok((key.to_string(), parsed))
        })
        .collect()
}

impl Args {
    /// The simulator configuration; without `--user`/`--token` the defaults are user
    /// `root@pam` / `pvesim` and token `root@pam!pvesim` with a secret kept in the state dir.
    pub fn into_config(self) -> Result<SimConfig, SimError> {
        let mut faults = if self.fast {
            Faults::fast()
        } else {
            Faults::realistic()
        };
        faults
            .task_delay_ms
            .extend(pairs(&self.task_delays, "task delay", |v| v?.parse().ok())?);
        if let Some(ms) = self.dhcp_lease_ms {
            faults.dhcp_lease_ms = ms;
        }
        faults.fail_next = pairs(&self.fail_next, "failure", |v| {
            Some(v.unwrap_or_default().to_string())
        })?;
        faults.warn_next = pairs(&self.warn_next, "warning count", |v| {
            v.map_or(Some(1), |n| n.parse().ok())
        })?;

        let mut users = self.users;
        let mut tokens = self.tokens;
        if users.is_empty() && tokens.is_empty() {
            std::fs::create_dir_all(&self.state_dir)?;
            let path = self.state_dir.join("default-token-secret");
            let secret = match std::fs::read_to_string(&path) {
                Ok(s) if !s.trim().is_empty() => s.trim().to_string(),
                _ => {
                    let s = uuid::Uuid::new_v4().to_string();
                    std::fs::write(&path, &s)?;
                    s
                }
            };
            users.push(UserSpec {
                userid: "root@pam".into(),
                password: "pvesim".into(),
            });
            tokens.push(TokenSpec {
                tokenid: "root@pam!pvesim".into(),
                secret,
            });
        }
        let node_ssh_authorized_keys = match &self.node_ssh_key {
            Some(path) => std::fs::read_to_string(path)?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from)
                .collect(),
            None => Vec::new(),
        };
        Ok(SimConfig {
            listen: self.listen,
            state_dir: Some(self.state_dir),
            nodes: if self.nodes.is_empty() {
                vec!["pve".into()]
            } else {
                self.nodes
            },
            users,
            tokens,
            privileges: self.privileges,
            ssh_port: self.ssh_port,
            ip_pool: self.ip_pool,
            node_ssh: self.node_ssh,
            node_ssh_authorized_keys,
            faults,
            auth_failure_delay: Duration::from_millis(self.auth_fail_delay_ms),
        })
    }
}
