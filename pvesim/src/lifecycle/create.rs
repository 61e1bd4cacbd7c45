//! `POST /nodes/{node}/lxc`: PVE's pre-fork checks and the `vzcreate` worker.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::tasks::{self, Outcome};
use crate::api::error::ApiError;
use crate::auth::privs::PrivSet;
use crate::inventory;
use crate::schema::{self, Format, propstring};
use crate::sim::Sim;
use crate::state::{Container, PasswordHash, PowerState};

/// Create parameters that are not container config keys.
const NOT_CONFIG: &[&str] = &[
    "vmid",
    "node",
    "ostemplate",
    "password",
    "ssh-public-keys",
    "storage",
    "start",
    "restore",
    "force",
    "unique",
    "pool",
    "ignore-unpack-errors",
    "bwlimit",
    "ha-managed",
    "lock",
];

/// A validated create call.
pub struct CreateRequest<'a> {
    pub node: &'a str,
    pub vmid: u32,
    /// Parameter values as text (booleans as `0`/`1`).
    pub params: &'a BTreeMap<String, String>,
    pub authid: &'a str,
    pub privs: &'a PrivSet,
}

fn need(privs: &PrivSet, path: &str, privilege: &str) -> Result<(), ApiError> {
    if privs.has(privilege) {
        Ok(())
    } else {
        Err(ApiError::forbidden(Some(format!("{path}, {privilege}"))))
    }
}

/// The privilege PVE requires on `/vms/{vmid}` to set a config key at create.
fn key_privilege(key: &str) -> &'static str {
    let indexed = |prefix: &str| {
        key.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    match key {
        "rootfs" => "VM.Config.Disk",
        _ if indexed("mp") || indexed("unused") => "VM.Config.Disk",
        "cores" | "cpulimit" | "cpuunits" => "VM.Config.CPU",
        "memory" | "swap" => "VM.Config.Memory",
        "hostname" | "nameserver" | "searchdomain" => "VM.Config.Network",
        _ if indexed("net") => "VM.Config.Network",
        "features" => "VM.Allocate",
        _ => "VM.Config.Options",
    }
}

/// The member schema of a property-string parameter of the create call.
fn format_of(key: &str) -> Option<&'static schema::ObjectSchema> {
    let (endpoint, _) = schema::api().find("POST", "/nodes/x/lxc")?;
    match endpoint.params.get(key)?.format.as_ref()? {
        Format::Properties(inner) => Some(inner),
        Format::Named(_) => None,
    }
}

/// Property string with `first` leading and the other keys sorted, as PVE prints them.
fn print_propstring(first: &str, map: &BTreeMap<String, String>) -> String {
    let mut parts: Vec<String> = map
        .get(first)
        .map(|v| format!("{first}={v}"))
        .into_iter()
        .collect();
    parts.extend(
        map.iter()
            .filter(|(k, _)| *k != first)
            .map(|(k, v)| format!("{k}={v}")),
    );
    parts.join(",")
}

fn size_text(gib: f64) -> String {
    if gib.fract() == 0.0 {
        format!("{}G", gib as u64)
    } else {
        format!("{}M", (gib * 1024.0).round() as u64)
    }
}

/// Runs PVE's synchronous checks, records the container (locked `create`) and starts the
/// `vzcreate` worker. Returns the UPID.
pub fn create(sim: &Arc<Sim>, req: CreateRequest<'_>) -> Result<String, ApiError> {
    let CreateRequest {
        node,
        vmid,
        params,
        authid,
        privs,
    } = req;
    let vms_path = format!("/vms/{vmid}");
    if !privs.has("VM.Allocate") {
        return Err(ApiError::forbidden(None));
    }
    if let Some(owner) = sim
        .store
        .read(|s| s.containers.get(&vmid).map(|c| c.node.clone()))
    {
        return Err(ApiError::internal(format!(
            "CT {vmid} already exists on node '{owner}'"
        )));
    }

    let ostemplate = params.get("ostemplate").cloned().unwrap_or_default();
    let (template_store, _) = ostemplate
        .split_once(':')
        .ok_or_else(|| ApiError::internal(format!("unable to parse volume ID '{ostemplate}'")))?;
    if inventory::storage(template_store).is_none() {
        return Err(ApiError::internal(format!(
            "storage '{template_store}' does not exist"
        )));
    }
    if !privs.has("Datastore.Allocate")
        && !privs.has("Datastore.AllocateSpace")
        && !privs.has("Datastore.Audit")
    {
        return Err(ApiError::forbidden(Some(format!(
            "/storage/{template_store}, Datastore.AllocateSpace|Datastore.Audit"
        ))));
    }

    let storage = params.get("storage").map_or("local", String::as_str);
    if inventory::storage(storage).is_none() {
        return Err(ApiError::internal(format!(
            "storage '{storage}' does not exist"
        )));
    }
    let rootfs_text = params
        .get("rootfs")
        .cloned()
        .unwrap_or_else(|| format!("{storage}:4"));
    let rootfs_schema =
        format_of("rootfs").ok_or_else(|| ApiError::internal("schema has no rootfs format"))?;
    let mut rootfs = propstring::parse(rootfs_schema, &rootfs_text).map_err(ApiError::internal)?;
    let volume = rootfs.remove("volume").unwrap_or_default();
    let (disk_store, size) = match volume.split_once(':') {
        Some((store, size)) if schema::is_number(size) => {
            (store.to_string(), size.parse::<f64>().unwrap_or(4.0))
        }
        None if schema::is_number(&volume) => {
            (storage.to_string(), volume.parse::<f64>().unwrap_or(4.0))
        }
        _ => {
            return Err(ApiError::internal(format!(
                "unable to parse volume ID '{volume}'"
            )));
        }
    };
    let disk = inventory::storage(&disk_store)
        .ok_or_else(|| ApiError::internal(format!("storage '{disk_store}' does not exist")))?;
    if !disk.supports("rootdir") {
        return Err(ApiError::param(
            "storage",
            format!("storage '{disk_store}' does not support container directories"),
        ));
    }
    need(
        privs,
        &format!("/storage/{disk_store}"),
        "Datastore.AllocateSpace",
    )?;

    for key in params.keys().filter(|k| !NOT_CONFIG.contains(&k.as_str())) {
        need(privs, &vms_path, key_privilege(key))?;
    }
    let unprivileged = params
        .get("unprivileged")
        .map_or("1", String::as_str)
        .to_string();
    if unprivileged == "0" {
        need(privs, "/", "Sys.Modify")?;
    }

    let authorized_keys = match params.get("ssh-public-keys") {
        Some(text) => parse_public_keys(text)?,
        None => Vec::new(),
    };

    let mut config: BTreeMap<String, String> = params
        .iter()
        .filter(|(k, _)| !NOT_CONFIG.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let net_schema =
        format_of("net0").ok_or_else(|| ApiError::internal("schema has no net format"))?;
    for key in config
        .keys()
        .filter(|k| k.starts_with("net"))
        .cloned()
        .collect::<Vec<_>>()
    {
        let mut net = propstring::parse(net_schema, &config[&key]).map_err(ApiError::internal)?;
        net.entry("hwaddr".into())
            .or_insert_with(crate::net::random_mac);
        net.entry("type".into()).or_insert_with(|| "veth".into());
        if let Some(bridge) = net.get("bridge") {
            need(
                privs,
                &format!("/sdn/zones/localnetwork/{bridge}"),
                "SDN.Use",
            )?;
        }
        config.insert(key, print_propstring("name", &net));
    }
    rootfs.insert("size".into(), size_text(size));
    let mut rootfs_value = format!("{disk_store}:vm-{vmid}-disk-0");
    for (k, v) in &rootfs {
        rootfs_value.push_str(&format!(",{k}={v}"));
    }
    config.insert("rootfs".into(), rootfs_value);
    config
        .entry("arch".into())
        .or_insert_with(|| "amd64".into());
    let template = inventory::template(&ostemplate);
    config
        .entry("ostype".into())
        .or_insert_with(|| template.map_or("unmanaged", |t| t.ostype).to_string());
    config.insert("unprivileged".into(), unprivileged);

    let start = params.get("start").is_some_and(|v| v == "1");
    let container = Container {
        vmid,
        node: node.to_string(),
        config,
        status: PowerState::Stopped,
        lock: Some("create".into()),
        password: params.get("password").map(|p| PasswordHash::new(p)),
        authorized_keys,
        host_key: None,
        pool_ip: None,
        started_at: None,
        lease_at_ms: None,
        pid: None,
    };
    sim.store.update(|s| s.containers.insert(vmid, container));
    let upid = tasks::begin(sim, node, "vzcreate", &vmid.to_string(), authid);
    tracing::info!(vmid, %upid, "creating container");
    let worker_sim = sim.clone();
    let worker_upid = upid.clone();
    sim.tracker.spawn(async move {
        let outcome = match run(&worker_sim, vmid, &worker_upid, &ostemplate).await {
            Ok(warnings) if start => match super::power::boot(&worker_sim, vmid).await {
                Ok(()) => Outcome::Ok(warnings),
                Err(e) => Outcome::Err(e),
            },
            Ok(warnings) => Outcome::Ok(warnings),
            Err(e) => {
                worker_sim.store.update(|s| s.containers.remove(&vmid));
                let _ = std::fs::remove_dir_all(worker_sim.container_dir(vmid));
                Outcome::Err(format!("unable to create CT {vmid} - {e}"))
            }
        };
        tasks::finish(&worker_sim, &worker_upid, outcome);
    });
    Ok(upid)
}

/// OpenSSH public key lines, or PVE's validation error.
fn parse_public_keys(text: &str) -> Result<Vec<String>, ApiError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            russh::keys::PublicKey::from_openssh(line)
                .map(|_| line.to_string())
                .map_err(|_| ApiError::internal("SSH public key validation error"))
        })
        .collect()
}

/// The `vzcreate` worker body: unpack (simulated), root filesystem, host key.
async fn run(sim: &Arc<Sim>, vmid: u32, upid: &str, ostemplate: &str) -> Result<u32, String> {
    super::task_delay(sim, "vzcreate").await;
    if let Some(msg) = sim.faults().take_failure("vzcreate") {
        return Err(if msg.is_empty() {
            "simulated failure (pvesim fault injection)".into()
        } else {
            msg
        });
    }
    let template = inventory::template(ostemplate)
        .ok_or_else(|| format!("volume '{ostemplate}' does not exist"))?;
    let ct = sim
        .store
        .read(|s| s.containers.get(&vmid).cloned())
        .ok_or("container vanished during create")?;
    let unpacked = template.size * 4;
    tasks::log(
        sim,
        upid,
        format!(
            "extracting archive '/var/lib/vz/template/cache/{}'",
            template.file
        ),
    );
    tasks::log(
        sim,
        upid,
        format!(
            "Total bytes read: {unpacked} ({}MiB, 138MiB/s)",
            unpacked / (1024 * 1024)
        ),
    );
    tasks::log(
        sim,
        upid,
        format!(
            "Detected container architecture: {}",
            ct.config.get("arch").map_or("amd64", String::as_str)
        ),
    );

    let host_key = crate::ssh::keys::HostKey::generate().map_err(|e| e.to_string())?;
    let name = ct.name();
    tasks::log(
        sim,
        upid,
        "Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...",
    );
    tasks::log(
        sim,
        upid,
        format!("done: {} root@{name}", host_key.fingerprint()),
    );

    let private = host_key.private_openssh().map_err(|e| e.to_string())?;
    let root = sim.container_root(vmid);
    let spec = crate::sandbox::RootSpec {
        hostname: &name,
        os_release: template.os_release,
        debian: template.ostype == "debian",
        authorized_keys: &ct.authorized_keys,
        host_private_key: &private,
        host_public_key: &host_key.public_openssh(),
        ssh_port: sim.ssh_port,
    };
    crate::sandbox::create_container_root(&root, &spec)
        .map_err(|e| format!("unable to create root filesystem: {e}"))?;
    let warnings = tasks::injected_warnings(sim, upid, "vzcreate");
    sim.store.update(|s| {
        if let Some(ct) = s.containers.get_mut(&vmid) {
            ct.host_key = Some(private);
            ct.lock = None;
        }
    });
    Ok(warnings)
}
