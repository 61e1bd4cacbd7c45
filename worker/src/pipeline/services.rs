//! Finding a container's services from `systemctl list-units` and `ss -tlnp` output: running
//! units that are not part of the base system, the TCP ports their processes listen on, and a
//! web address for ports that usually serve HTTP.

use std::collections::BTreeSet;

use domain::container::ServiceInfo;

/// Units every container runs, not worth showing.
const SYSTEM_UNITS: &[&str] = &[
    "ssh",
    "sshd",
    "cron",
    "dbus",
    "rsyslog",
    "postfix",
    "exim4",
    "nullmailer",
    "networking",
    "ifupdown-pre",
    "console-getty",
    "chrony",
    "chronyd",
    "unattended-upgrades",
    "apparmor",
    "polkit",
    "atd",
    "e2scrub_reap",
    "keyboard-setup",
    "kmod-static-nodes",
    "networkd-dispatcher",
    "qemu-guest-agent",
    "accounts-daemon",
    "snapd",
    "config-manager",
];

/// Prefixes of units every container runs (`systemd-journald`, `getty@tty1` …).
const SYSTEM_PREFIXES: &[&str] = &[
    "systemd-",
    "getty@",
    "container-getty@",
    "serial-getty@",
    "user@",
    "user-runtime-dir@",
    "ifup@",
    "modprobe@",
    "postfix@",
    "lvm2-",
    "cloud-",
];

/// Ports that usually speak HTTP, and those that usually speak HTTPS.
const HTTP_PORTS: &[u16] = &[
    80, 81, 3000, 5000, 8000, 8008, 8080, 8081, 8088, 8096, 8123, 8888, 9000, 9090,
];
const HTTPS_PORTS: &[u16] = &[443, 8443, 9443];

/// Whether a unit (without `.service`) belongs to the base system.
pub fn is_system_unit(name: &str) -> bool {
    SYSTEM_UNITS.contains(&name) || SYSTEM_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Service names (without `.service`) from `systemctl list-units --type=service --no-legend`.
pub fn running_units(output: &str) -> Vec<String> {
    let mut units: Vec<String> = output
        .lines()
        .filter_map(|line| {
            line.split_whitespace()
                .find(|word| word.ends_with(".service"))
                .map(|unit| unit.trim_end_matches(".service").to_owned())
        })
        .collect();
    units.sort();
    units.dedup();
    units
}

/// One listening TCP socket from `ss -tlnp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub process: Option<String>,
    /// The local address without port, brackets removed (`0.0.0.0`, `::`, `127.0.0.1`, `*`).
    pub address: String,
    pub port: u16,
}

impl Listener {
    /// Bound to a loopback address only, so unreachable from outside.
    pub fn is_loopback(&self) -> bool {
        self.address == "::1"
            || self.address == "localhost"
            || self
                .address
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|a| a.is_loopback())
    }
}

/// The listening sockets of `ss -tlnp` output (the header line is skipped).
pub fn listeners(output: &str) -> Vec<Listener> {
    output
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.first() != Some(&"LISTEN") || fields.len() < 5 {
                return None;
            }
            let local = fields[3];
            let (address, port) = local.rsplit_once(':')?;
            let port: u16 = port.parse().ok()?;
            let address = address.trim_start_matches('[').trim_end_matches(']');
            let address = address.split('%').next().unwrap_or(address).to_owned();
            let process = fields[5..].iter().find_map(|f| {
                let rest = f.strip_prefix("users:((\"")?;
                rest.split('"').next().map(str::to_owned)
            });
            Some(Listener {
                process,
                address,
                port,
            })
        })
        .collect()
}

/// Whether a listening process belongs to a unit (`nginx`/`nginx`, `mariadbd`/`mariadb`,
/// `postgres`/`postgresql`).
fn belongs(process: &str, unit: &str) -> bool {
    process == unit || process.starts_with(unit) || unit.starts_with(process)
}

/// The services to show: each non-system running unit with each port it listens on (or none),
/// plus listening processes no unit accounts for. `ip` makes web URLs.
pub fn discover(units: &[String], sockets: &[Listener], ip: Option<&str>) -> Vec<ServiceInfo> {
    let mut found: BTreeSet<(String, Option<u16>, Option<String>)> = BTreeSet::new();
    let mut claimed = vec![false; sockets.len()];
    for unit in units.iter().filter(|u| !is_system_unit(u)) {
        let mut any = false;
        for (i, socket) in sockets.iter().enumerate() {
            if socket.process.as_deref().is_some_and(|p| belongs(p, unit)) {
                claimed[i] = true;
                any = true;
                found.insert((unit.clone(), Some(socket.port), url(socket, ip)));
            }
        }
        if !any {
            found.insert((unit.clone(), None, None));
        }
    }
    for (i, socket) in sockets.iter().enumerate() {
        let Some(process) = socket.process.as_deref() else {
            continue;
        };
        let system = is_system_unit(process) || units.iter().any(|u| belongs(process, u));
        if !claimed[i] && !system {
            found.insert((process.to_owned(), Some(socket.port), url(socket, ip)));
        }
    }
    // One row per name and port: a socket on 0.0.0.0 and one on :: give one service.
    let mut services: Vec<ServiceInfo> = Vec::new();
    for (name, port, url) in found {
        match services.last_mut() {
            Some(last) if last.name == name && last.port == port => {
                if last.url.is_none() {
                    last.url = url;
                }
            }
            _ => services.push(ServiceInfo {
                name,
                port,
                protocol: "tcp".into(),
                url,
            }),
        }
    }
    services
}

fn url(socket: &Listener, ip: Option<&str>) -> Option<String> {
    let ip = ip?;
    if socket.is_loopback() {
        return None;
    }
    let scheme = if HTTPS_PORTS.contains(&socket.port) {
        "https"
    } else if HTTP_PORTS.contains(&socket.port) {
        "http"
    } else {
        return None;
    };
    Some(format!("{scheme}://{ip}:{}/", socket.port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEMCTL: &str = "\
cron.service           loaded active running Regular background program processing daemon
nginx.service          loaded active running A high performance web server
redis-server.service   loaded active running Advanced key-value store
ssh.service            loaded active running OpenBSD Secure Shell server
systemd-journald.service loaded active running Journal Service
worker-app.service     loaded active running Background jobs
";

    const SS: &str = "\
State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
LISTEN 0      511          0.0.0.0:80         0.0.0.0:*    users:((\"nginx\",pid=401,fd=6))
LISTEN 0      511             [::]:80            [::]:*    users:((\"nginx\",pid=401,fd=7))
LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:((\"sshd\",pid=400,fd=3))
LISTEN 0      511        127.0.0.1:6379       0.0.0.0:*    users:((\"redis-server\",pid=402,fd=6))
LISTEN 0      4096         0.0.0.0:8443       0.0.0.0:*    users:((\"caddy\",pid=403,fd=9))
";

    #[test]
    fn parses_units_and_sockets() {
        let units = running_units(SYSTEMCTL);
        assert_eq!(units.len(), 6);
        assert!(units.contains(&"nginx".to_owned()));
        let sockets = listeners(SS);
        assert_eq!(sockets.len(), 5);
        assert_eq!(
            sockets[1],
            Listener {
                process: Some("nginx".into()),
                address: "::".into(),
                port: 80
            }
        );
        assert!(sockets[3].is_loopback());
    }

    #[test]
    fn discovers_services_with_ports_and_urls() {
        let services = discover(
            &running_units(SYSTEMCTL),
            &listeners(SS),
            Some("192.168.1.50"),
        );
        let rows: Vec<(&str, Option<u16>, Option<&str>)> = services
            .iter()
            .map(|s| (s.name.as_str(), s.port, s.url.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                ("caddy", Some(8443), Some("https://192.168.1.50:8443/")),
                ("nginx", Some(80), Some("http://192.168.1.50:80/")),
                ("redis-server", Some(6379), None),
                ("worker-app", None, None),
            ]
        );
        let without_ip = discover(&running_units(SYSTEMCTL), &listeners(SS), None);
        assert!(without_ip.iter().all(|s| s.url.is_none()));
    }
}
