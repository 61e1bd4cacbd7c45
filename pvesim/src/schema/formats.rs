//! Named PVE formats (`pve-vmid`, `pve-node`, `dns-name`, ...) that are cheap to check.
//!
//! Error texts are the `die` messages of the PVE validators, with their trailing newline.
//! Unknown format names are accepted, as a format PVE checks on a path we do not model.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex")
}

static VMID: LazyLock<Regex> = LazyLock::new(|| re(r"^[1-9][0-9]{2,8}$"));
static NODE: LazyLock<Regex> = LazyLock::new(|| re(r"^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$"));
static ID: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^[a-z][a-z0-9\-_.]*[a-z0-9]$"));
static CONFIGID: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^[a-z][a-z0-9_-]+$"));
static REALM: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z][A-Za-z0-9.\-_]+$"));
static POOLID: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z0-9_][A-Za-z0-9_\-/]*$"));
static DNS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^(([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)\.)*([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)$")
});
static MAC: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$"));
static VOLID: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$"));
static TAG: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^[a-z0-9_][a-z0-9_\-+.]*$"));
static SIZE: LazyLock<Regex> = LazyLock::new(|| re(r"^\d+(\.\d+)?[KMGT]?$"));
static TIMEZONE: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$"));

const STORAGE_CONTENT: &[&str] = &[
    "images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import",
];

/// Checks `value` against the named format; `-list` and `-opt` suffixes work as in PVE.
pub fn check(format: &str, value: &str) -> Result<(), String> {
    if let Some(base) = format.strip_suffix("-list") {
        return split_list(value).try_for_each(|item| check_one(base, item));
    }
    if let Some(base) = format.strip_suffix("-opt") {
        return if value.is_empty() {
            Ok(())
        } else {
            check_one(base, value)
        };
    }
    check_one(format, value)
}

/// PVE's `split_list`: NUL-separated, else separated by `,`, `;` and whitespace.
fn split_list(value: &str) -> Box<dyn Iterator<Item = &str> + '_> {
    if value.contains('\0') {
        Box::new(value.split('\0').filter(|s| !s.is_empty()))
    } else {
        Box::new(
            value
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|s| !s.is_empty()),
        )
    }
}

fn fail(msg: String) -> Result<(), String> {
    Err(format!("{msg}\n"))
}

fn check_one(format: &str, v: &str) -> Result<(), String> {
    match format {
        "pve-vmid" if !VMID.is_match(v) => fail("value does not look like a valid VM ID".into()),
        "pve-node" if !NODE.is_match(v) => {
            fail("value does not look like a valid node name".into())
        }
        "pve-storage-id" if !ID.is_match(v) => {
            fail(format!("storage ID '{v}' contains illegal characters"))
        }
        "pve-configid" if !CONFIGID.is_match(v) => fail(format!("invalid configuration ID '{v}'")),
        "pve-realm" if !REALM.is_match(v) => {
            fail(format!("value '{v}' does not look like a valid realm"))
        }
        "pve-poolid" if !POOLID.is_match(v) => fail(format!("invalid pool ID '{v}'")),
        "dns-name" if !DNS.is_match(v) => fail("value does not look like a valid DNS name".into()),
        "mac-addr" if !MAC.is_match(v) => {
            fail("value does not look like a valid unicast MAC address".into())
        }
        "ipv4" if v.parse::<Ipv4Addr>().is_err() => {
            fail("value does not look like a valid IPv4 address".into())
        }
        "ipv6" if v.parse::<Ipv6Addr>().is_err() => {
            fail("value does not look like a valid IPv6 address".into())
        }
        "ip" if v.parse::<std::net::IpAddr>().is_err() => {
            fail("value does not look like a valid IP address".into())
        }
        "pve-ipv4-config" if !(v == "dhcp" || v == "manual" || cidr_v4(v)) => {
            fail("value does not look like a valid ipv4 network configuration".into())
        }
        "pve-ipv6-config" if !(matches!(v, "auto" | "dhcp" | "manual") || cidr_v6(v)) => {
            fail("value does not look like a valid ipv6 network configuration".into())
        }
        "disk-size" if !SIZE.is_match(v) => {
            fail(format!("value does not look like a valid disk size: {v}"))
        }
        "pve-volume-id" if !VOLID.is_match(v) => fail(format!("unable to parse volume ID '{v}'")),
        "pve-tag" if !TAG.is_match(v) => fail("invalid characters in tag".into()),
        "pve-storage-content" if !STORAGE_CONTENT.contains(&v) => {
            fail(format!("invalid content type '{v}'"))
        }
        "pve-priv" if !crate::auth::privs::ALL.contains(&v) => {
            fail(format!("invalid privilege '{v}'"))
        }
        "pve-task-status-type"
            if !matches!(
                v.to_ascii_lowercase().as_str(),
                "ok" | "error" | "warning" | "unknown"
            ) =>
        {
            fail(format!("invalid status '{v}'"))
        }
        "pve-ct-timezone" if !(v == "host" || TIMEZONE.is_match(v)) => {
            fail(format!("invalid time zone '{v}'"))
        }
        "pve-startup-order" if !startup_order(v) => fail("unable to parse startup options".into()),
        "lxc-ip-with-ll-iface" if !ip_with_iface(v) => {
            fail(format!("{v} is not a valid IP address"))
        }
        "pve-lxc-dev-string" if !v.starts_with("/dev/") => fail(format!("not a device path: {v}")),
        _ => Ok(()),
    }
}

fn cidr_v4(v: &str) -> bool {
    v.split_once('/').is_some_and(|(ip, len)| {
        ip.parse::<Ipv4Addr>().is_ok() && len.parse::<u8>().is_ok_and(|l| (8..=32).contains(&l))
    })
}

fn cidr_v6(v: &str) -> bool {
    v.split_once('/').is_some_and(|(ip, len)| {
        ip.parse::<Ipv6Addr>().is_ok() && len.parse::<u8>().is_ok_and(|l| (8..=128).contains(&l))
    })
}

fn ip_with_iface(v: &str) -> bool {
    let (ip, iface) = v.split_once('%').map_or((v, None), |(ip, i)| (ip, Some(i)));
    match iface {
        Some(_) => ip
            .parse::<Ipv6Addr>()
            .is_ok_and(|a| a.segments()[0] & 0xffc0 == 0xfe80),
        None => ip.parse::<std::net::IpAddr>().is_ok(),
    }
}

fn startup_order(v: &str) -> bool {
    !v.is_empty()
        && v.split(',').filter(|p| !p.trim().is_empty()).all(|p| {
            let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
            digits(p.strip_prefix("order=").unwrap_or(p))
                || p.strip_prefix("up=").is_some_and(digits)
                || p.strip_prefix("down=").is_some_and(digits)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(check("pve-vmid", "100").is_ok());
        assert!(check("pve-vmid", "1000000000").is_err());
        assert!(check("pve-storage-content-list", "vztmpl,iso").is_ok());
        assert_eq!(
            check("pve-storage-content-list", "vztmpl,foo").unwrap_err(),
            "invalid content type 'foo'\n"
        );
        assert!(check("pve-ipv4-config", "10.0.0.2/24").is_ok());
        assert!(check("pve-ipv4-config", "10.0.0.2").is_err());
        assert!(check("dns-name", "ct-web.example").is_ok());
        assert!(check("dns-name", "bad_name").is_err());
        assert!(check("pve-tag-list", "prod;web").is_ok());
        assert!(check("some-unknown-format", "x").is_ok());
    }
}
