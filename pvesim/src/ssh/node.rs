//! The node's SSH endpoint (the worker's fallback path): commands run in the node's scratch
//! sandbox, except `pct exec`, `pct push`, `pct pull`, `pct status`, `pct list` and
//! `pct config`, which act on the node's containers. A command line may chain them with
//! `&&`, `||` and `;`; `pct` itself must be a simple command (no pipes or redirections).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::exec::{self, ExecIo};
use super::keys::{HostKey, parse_authorized};
use super::shellwords::{self, Join};
use super::vfs::Vfs;
use super::{Target, serve};
use crate::error::SimError;
use crate::sandbox::Sandbox;
use crate::sim::Sim;

/// Starts the node endpoint of `node` on `addr`; returns the bound address and host key.
pub async fn start(
    sim: &Arc<Sim>,
    node: &str,
    addr: SocketAddr,
    authorized_keys: &[String],
) -> Result<(SocketAddr, HostKey), SimError> {
    let key = HostKey::load_or_create(&sim.state_dir.join("node-ssh-host-key"))?;
    let target = Target::Node {
        node: node.to_string(),
        authorized: Arc::new(parse_authorized(authorized_keys)),
    };
    let bound = serve(
        sim,
        addr,
        key.private_key().clone(),
        target,
        sim.cancel.child_token(),
    )
    .await
    .map_err(|source| SimError::Bind {
        what: "node SSH",
        addr: addr.to_string(),
        source,
    })?;
    Ok((bound, key))
}

/// Runs a node command line; returns its exit code.
pub async fn run(
    sim: &Arc<Sim>,
    node: &str,
    command: &str,
    env: &[(String, String)],
    io: &mut ExecIo,
    cancel: &CancellationToken,
) -> u32 {
    let parts = shellwords::split(command);
    let node_root = sim.node_root(node);
    let shell = |text: &str| {
        Sandbox {
            root: &node_root,
            hostname: node,
        }
        .command(&["bash".into(), "-c".into(), text.into()], env)
    };
    if !parts
        .iter()
        .any(|p| p.words.first().is_some_and(|w| w == "pct"))
    {
        return exec::run(shell(command), io, cancel).await;
    }
    let mut last = 0;
    for part in parts {
        let skip = match part.join {
            Join::And => last != 0,
            Join::Or => last == 0,
            Join::First | Join::Then => false,
        };
        if skip {
            continue;
        }
        last = if part.words.first().is_some_and(|w| w == "pct") {
            if part.simple {
                pct(sim, node, &part.words[1..], env, io, cancel).await
            } else {
                io.stderr("pvesim: on the simulated node `pct` must be a simple command (no pipes, redirections or expansions)\n")
                    .await;
                127
            }
        } else {
            // `(exit N);` keeps `$?` of the previous part for the shell.
            exec::run(shell(&format!("(exit {last}); {}", part.text)), io, cancel).await
        };
    }
    last
}

/// `pct SUBCOMMAND ...` for a container of this node.
async fn pct(
    sim: &Arc<Sim>,
    node: &str,
    args: &[String],
    env: &[(String, String)],
    io: &mut ExecIo,
    cancel: &CancellationToken,
) -> u32 {
    let Some(sub) = args.first().map(String::as_str) else {
        io.stderr("ERROR: no command specified\n").await;
        return 255;
    };
    if sub == "list" {
        let rows = sim.store.read(|s| {
            s.containers
                .values()
                .filter(|c| c.node == node)
                .map(|c| {
                    format!(
                        "{:<10} {:<10} {:<12} {}\n",
                        c.vmid,
                        c.status.as_str(),
                        c.lock.clone().unwrap_or_default(),
                        c.name()
                    )
                })
                .collect::<String>()
        });
        io.stdout(format!("VMID       Status     Lock         Name\n{rows}").into_bytes())
            .await;
        return 0;
    }
    let Some(vmid) = args.get(1).and_then(|v| v.parse::<u32>().ok()) else {
        io.stderr(&format!("400 not enough arguments\npct {sub} <vmid> ...\n"))
            .await;
        return 255;
    };
    let Some(ct) = sim.store.read(|s| s.container_on(node, vmid).cloned()) else {
        io.stderr(&format!(
            "Configuration file 'nodes/{node}/lxc/{vmid}.conf' does not exist\n"
        ))
        .await;
        return 255;
    };
    let rest = &args[2..];
    match sub {
        "status" => {
            io.stdout(format!("status: {}\n", ct.status.as_str()).into_bytes())
                .await;
            return 0;
        }
        "config" => {
            let text: String = ct
                .config
                .iter()
                .map(|(k, v)| format!("{k}: {v}\n"))
                .collect();
            io.stdout(text.into_bytes()).await;
            return 0;
        }
        "exec" | "push" | "pull" => {}
        other => {
            io.stderr(&format!("ERROR: unknown command 'pct {other}'\n"))
                .await;
            return 255;
        }
    }
    if !ct.is_running() {
        io.stderr(&format!("CT {vmid} not running\n")).await;
        return 255;
    }
    let root = sim.container_root(vmid);
    match sub {
        "exec" => {
            let argv: Vec<String> = match rest.iter().position(|a| a == "--") {
                Some(i) => rest[i + 1..].to_vec(),
                None => rest
                    .iter()
                    .filter(|a| !a.starts_with("--"))
                    .cloned()
                    .collect(),
            };
            if argv.is_empty() {
                io.stderr("missing command\n").await;
                return 255;
            }
            let cmd = Sandbox {
                root: &root,
                hostname: &ct.name(),
            }
            .command(&argv, env);
            exec::run(cmd, io, cancel).await
        }
        _ => match copy(sim, node, &root, sub == "push", rest).await {
            Ok(()) => 0,
            Err(msg) => {
                io.stderr(&format!("{msg}\n")).await;
                255
            }
        },
    }
}

/// `pct push VMID FILE DEST [--perms MODE]` / `pct pull VMID FILE DEST [--perms MODE]`.
async fn copy(
    sim: &Sim,
    node: &str,
    ct_root: &std::path::Path,
    push: bool,
    args: &[String],
) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mut positional = Vec::new();
    let mut perms = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--perms" => {
                perms = it
                    .next()
                    .map(|p| u32::from_str_radix(p.trim_start_matches("0o"), 8))
            }
            "--user" | "--group" => {
                it.next();
            }
            _ => positional.push(arg.clone()),
        }
    }
    let [src, dst] = positional.as_slice() else {
        return Err("400 wrong number of arguments".into());
    };
    let perms = perms
        .transpose()
        .map_err(|_| "invalid --perms value".to_string())?;
    let (node_vfs, ct_vfs) = (Vfs::node(&sim.node_root(node)), Vfs::container(ct_root));
    let (from_vfs, to_vfs) = if push {
        (&node_vfs, &ct_vfs)
    } else {
        (&ct_vfs, &node_vfs)
    };
    let from = from_vfs
        .resolve(src, true)
        .map_err(|e| format!("failed to open {src} for reading: {e}"))?;
    let to = to_vfs
        .resolve(dst, true)
        .and_then(|r| r.require_writable())
        .map_err(|e| format!("failed to open {dst} for writing: {e}"))?;
    let data = tokio::fs::read(&from.host)
        .await
        .map_err(|e| format!("failed to open {src} for reading: {e}"))?;
    tokio::fs::write(&to.host, data)
        .await
        .map_err(|e| format!("failed to open {dst} for writing: {e}"))?;
    let mode = match perms {
        Some(mode) => mode,
        None => tokio::fs::metadata(&from.host)
            .await
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644),
    };
    tokio::fs::set_permissions(&to.host, std::fs::Permissions::from_mode(mode))
        .await
        .map_err(|e| format!("failed to set permissions of {dst}: {e}"))
}
