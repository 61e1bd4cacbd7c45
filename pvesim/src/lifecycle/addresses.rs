//! Where a container's SSH server listens, and what `/interfaces` reports.
//!
//! A loopback address (127.0.0.0/8) in a `netN` `ip=` is used as is. Otherwise the container
//! gets an address from the simulator's pool, reported on its first non-loopback interface:
//! at once for a static `ip=` (the configured address is not reachable here), and for
//! `ip=dhcp` only once the lease delay has passed, as a DHCP client would get it.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::net::{link_local, parse_cidr_v4, pool_address};
use crate::sim::Sim;
use crate::state::Container;

/// One `netN` entry of a container config.
pub struct NetIf {
    pub name: String,
    pub bridge: Option<String>,
    pub hwaddr: Option<String>,
    pub ip: Option<String>,
}

/// The container's network interfaces in index order.
pub fn nets(ct: &Container) -> Vec<NetIf> {
    ct.net_keys()
        .iter()
        .filter_map(|k| ct.config.get(k))
        .map(|value| {
            let get = |key: &str| {
                value.split(',').find_map(|part| {
                    part.split_once('=')
                        .filter(|(k, _)| *k == key)
                        .map(|(_, v)| v.to_string())
                })
            };
            NetIf {
                name: get("name").unwrap_or_else(|| "eth0".into()),
                bridge: get("bridge"),
                hwaddr: get("hwaddr"),
                ip: get("ip"),
            }
        })
        .collect()
}

fn loopback(ip: Option<&str>) -> Option<(Ipv4Addr, u8)> {
    parse_cidr_v4(ip?).filter(|(addr, _)| addr.is_loopback())
}

/// The first loopback address configured on any interface.
pub fn loopback_static(ct: &Container) -> Option<Ipv4Addr> {
    nets(ct)
        .iter()
        .find_map(|n| loopback(n.ip.as_deref()))
        .map(|(a, _)| a)
}

/// The address the container's SSH server binds, assigning a pool address when needed.
pub fn ensure_ssh_ip(sim: &Sim, vmid: u32) -> Result<Ipv4Addr, String> {
    sim.store.update(|state| {
        let ct = state
            .containers
            .get(&vmid)
            .ok_or_else(|| format!("CT {vmid} does not exist"))?;
        if let Some(ip) = loopback_static(ct) {
            return Ok(ip);
        }
        if let Some(ip) = ct.pool_ip {
            return Ok(ip);
        }
        let used: HashSet<Ipv4Addr> = state
            .containers
            .values()
            .flat_map(|c| c.pool_ip.into_iter().chain(loopback_static(c)))
            .collect();
        let ip = pool_address(sim.ip_pool, &used)
            .ok_or("no free address left in the simulator's IP pool")?;
        if let Some(ct) = state.containers.get_mut(&vmid) {
            ct.pool_ip = Some(ip);
        }
        Ok(ip)
    })
}

fn address_entries(inet: Option<(String, u8)>, inet6: Option<(String, u8)>) -> Value {
    let mut list = Vec::new();
    if let Some((ip, prefix)) = &inet {
        list.push(
            json!({ "ip-address-type": "inet", "ip-address": ip, "prefix": prefix.to_string() }),
        );
    }
    if let Some((ip, prefix)) = &inet6 {
        list.push(json!({ "ip-address-type": "inet6", "ip-address": ip, "prefix": prefix }));
    }
    Value::Array(list)
}

fn interface(
    name: &str,
    mac: &str,
    inet: Option<(String, u8)>,
    inet6: Option<(String, u8)>,
) -> Value {
    let mut obj = json!({
        "name": name,
        "hwaddr": mac,
        "hardware-address": mac,
        "ip-addresses": address_entries(inet.clone(), inet6.clone()),
    });
    if let Some((ip, prefix)) = inet {
        obj["inet"] = json!(format!("{ip}/{prefix}"));
    }
    if let Some((ip, prefix)) = inet6 {
        obj["inet6"] = json!(format!("{ip}/{prefix}"));
    }
    obj
}

/// The `GET .../interfaces` list of a running container (PVE 8.4+ shape, with `lo`).
pub fn interfaces(ct: &Container, pool_prefix: u8, now_ms: i64) -> Value {
    let mut out = vec![interface(
        "lo",
        "00:00:00:00:00:00",
        Some(("127.0.0.1".into(), 8)),
        Some(("::1".into(), 128)),
    )];
    let leased = ct.lease_at_ms.is_none_or(|at| now_ms >= at);
    let mut pool_used = loopback_static(ct).is_some();
    for net in nets(ct) {
        let mac = net.hwaddr.clone().unwrap_or_default().to_ascii_lowercase();
        let inet = match net.ip.as_deref() {
            Some(ip) if loopback(Some(ip)).is_some() => {
                loopback(Some(ip)).map(|(a, l)| (a.to_string(), l))
            }
            Some(ip) if ip == "dhcp" || parse_cidr_v4(ip).is_some() => {
                let dhcp = ip == "dhcp";
                if !pool_used && (leased || !dhcp) {
                    pool_used = true;
                    ct.pool_ip.map(|a| (a.to_string(), pool_prefix))
                } else if !dhcp {
                    parse_cidr_v4(ip).map(|(a, l)| (a.to_string(), l))
                } else {
                    None
                }
            }
            _ => None,
        };
        let inet6 = link_local(&mac).map(|a| (a.to_string(), 64));
        out.push(interface(&net.name, &mac, inet, inet6));
    }
    Value::Array(out)
}
