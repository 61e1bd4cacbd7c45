//! What the wizard produces and the worker builds: a container's full, non-secret configuration
//! (`ContainerSpec`, stored as JSON on the container row), and the create form that adds the
//! root password. The same checks run per wizard step in the browser and all at once on the server.

use crate::template::{
    Package, Script, TemplateFile, limits, safe_file_name, tag, target_directory, validate_packages,
};
use crate::validation::{FieldErrors, hostname};
use crate::{NodeId, TemplateId};
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// PVE's VMID bounds (`pve-vmid`).
pub const VMID_RANGE: (u32, u32) = (100, 999_999_999);
/// PVE's minimum root password length for containers.
pub const ROOT_PASSWORD_MIN: usize = 5;
/// A sane upper bound for a password field.
pub const ROOT_PASSWORD_MAX: usize = 256;

/// How the container's `eth0` gets its IPv4 address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Ipv4Setup {
    Dhcp,
    /// `cidr` is `address/prefix`, e.g. `192.168.1.50/24`.
    Static {
        cidr: String,
        gateway: Option<String>,
    },
}

/// A container's configuration as stored on its row and read by the worker. Holds no secret.
/// Scripts, files and packages are a snapshot taken when the user pressed Deploy, so editing the
/// template later never changes a job already queued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub node_id: NodeId,
    pub template_id: Option<TemplateId>,
    pub template_name: Option<String>,
    pub hostname: String,
    pub vmid: u32,
    pub cores: u32,
    pub memory_mib: u32,
    pub swap_mib: u32,
    pub disk_gib: u32,
    /// Storage for the root disk (must accept `rootdir`).
    pub storage: String,
    /// OS template volume id, `storage:vztmpl/file`.
    pub os_template: String,
    pub bridge: String,
    pub ipv4: Ipv4Setup,
    /// DNS server; empty means the node's.
    pub nameserver: Option<String>,
    /// The user's own OpenSSH public key, added next to the worker's deploy key.
    pub ssh_public_key: Option<String>,
    pub unprivileged: bool,
    pub nesting: bool,
    pub keyctl: bool,
    pub fuse: bool,
    pub tags: Vec<String>,
    /// Packages to install, in order.
    pub packages: Vec<Package>,
    /// Scripts in run order; disabled ones are kept so the page can show them, and skipped.
    pub scripts: Vec<Script>,
    pub files: Vec<TemplateFile>,
}

impl Default for ContainerSpec {
    fn default() -> Self {
        ContainerSpec {
            node_id: NodeId(uuid::Uuid::nil()),
            template_id: None,
            template_name: None,
            hostname: String::new(),
            vmid: 0,
            cores: 1,
            memory_mib: 512,
            swap_mib: 512,
            disk_gib: 8,
            storage: String::new(),
            os_template: String::new(),
            bridge: String::new(),
            ipv4: Ipv4Setup::Dhcp,
            nameserver: None,
            ssh_public_key: None,
            unprivileged: true,
            nesting: true,
            keyctl: false,
            fuse: false,
            tags: Vec::new(),
            packages: Vec::new(),
            scripts: Vec::new(),
            files: Vec::new(),
        }
    }
}

impl ContainerSpec {
    /// The scripts that will run, in order.
    pub fn enabled_scripts(&self) -> impl Iterator<Item = &Script> {
        self.scripts.iter().filter(|s| s.enabled)
    }

    /// The static address without its prefix, when the address is static.
    pub fn static_address(&self) -> Option<Ipv4Addr> {
        match &self.ipv4 {
            Ipv4Setup::Static { cidr, .. } => ipv4_cidr(cidr).ok().map(|(a, _)| a),
            Ipv4Setup::Dhcp => None,
        }
    }

    /// Checks the Configure step; keys are field names (`hostname`, `ipv4_cidr`, `gateway` …).
    pub fn check_configure(&self, e: &mut FieldErrors) -> Option<ContainerSpec> {
        let host = e.check("hostname", hostname(&self.hostname));
        e.check("vmid", vmid(self.vmid));
        e.check("cores", in_range(self.cores, limits::CORES, " cores"));
        e.check(
            "memory_mib",
            in_range(self.memory_mib, limits::MEMORY_MIB, " MiB"),
        );
        e.check(
            "swap_mib",
            in_range(self.swap_mib, limits::SWAP_MIB, " MiB"),
        );
        e.check(
            "disk_gib",
            in_range(self.disk_gib, limits::DISK_GIB, " GiB"),
        );
        if self.node_id.0.is_nil() {
            e.add("node_id", "Choose a Proxmox node.");
        }
        let storage = e.check("storage", choice(&self.storage, "a storage"));
        let os_template = e.check("os_template", os_template_volid(&self.os_template));
        let bridge = e.check("bridge", choice(&self.bridge, "a bridge"));
        let ipv4 = match &self.ipv4 {
            Ipv4Setup::Dhcp => Some(Ipv4Setup::Dhcp),
            Ipv4Setup::Static { cidr, gateway } => {
                let parsed = e.check("ipv4_cidr", ipv4_cidr(cidr));
                let gw = match gateway.as_deref().map(str::trim) {
                    None | Some("") => Some(None),
                    Some(g) => match (parsed, e.check("gateway", ipv4_address(g))) {
                        (Some((addr, prefix)), Some(gw)) => e
                            .check("gateway", gateway_in_subnet(addr, prefix, gw))
                            .map(|()| Some(gw.to_string())),
                        _ => None,
                    },
                };
                match (parsed, gw) {
                    (Some((addr, prefix)), Some(gateway)) => Some(Ipv4Setup::Static {
                        cidr: format!("{addr}/{prefix}"),
                        gateway,
                    }),
                    _ => None,
                }
            }
        };
        let nameserver = match self.nameserver.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(ns) => e
                .check("nameserver", ipv4_address(ns))
                .map(|a| Some(a.to_string())),
        };
        let ssh_public_key = match self.ssh_public_key.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(k) => e.check("ssh_public_key", ssh_public_key(k)).map(Some),
        };
        let mut tags = Vec::new();
        for t in &self.tags {
            if let Some(t) = e.check("tags", tag(t))
                && !tags.contains(&t)
            {
                tags.push(t);
            }
        }
        Some(ContainerSpec {
            hostname: host?,
            storage: storage?,
            os_template: os_template?,
            bridge: bridge?,
            ipv4: ipv4?,
            nameserver: nameserver?,
            ssh_public_key: ssh_public_key?,
            tags,
            ..self.clone()
        })
    }

    /// Checks the Packages step; keys are `packages.N.name` / `packages.N.version`.
    pub fn check_packages(&self, e: &mut FieldErrors) -> Vec<Package> {
        validate_packages(&self.packages, "packages", e)
    }

    /// Checks the Scripts step and the files carried along; keys are `scripts.N.name` and
    /// `files.N.target_dir` / `files.N.name`.
    pub fn check_scripts_and_files(&self, e: &mut FieldErrors) {
        let mut names: Vec<String> = Vec::new();
        for (i, s) in self.scripts.iter().enumerate() {
            if let Some(n) = e.check(&format!("scripts.{i}.name"), safe_file_name(&s.name, 100)) {
                if names.contains(&n) {
                    e.add(&format!("scripts.{i}.name"), "Two scripts have this name.");
                }
                names.push(n);
            }
            if s.enabled && s.content.trim().is_empty() {
                e.add(&format!("scripts.{i}.content"), "The script is empty.");
            }
        }
        for (i, f) in self.files.iter().enumerate() {
            e.check(&format!("files.{i}.name"), safe_file_name(&f.name, 255));
            e.check(
                &format!("files.{i}.target_dir"),
                target_directory(&f.target_dir),
            );
        }
    }

    /// Every check of every step; the normalised spec when all pass.
    pub fn validated(&self) -> Result<ContainerSpec, FieldErrors> {
        let mut e = FieldErrors::new();
        let configured = self.check_configure(&mut e);
        let packages = self.check_packages(&mut e);
        self.check_scripts_and_files(&mut e);
        match configured {
            Some(spec) if e.is_empty() => Ok(ContainerSpec { packages, ..spec }),
            _ => Err(e),
        }
    }
}

/// The create call's input: the spec plus the root password, typed twice.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateContainerForm {
    pub spec: ContainerSpec,
    pub root_password: String,
    pub root_password_confirm: String,
    /// Generated by the browser when the wizard opens; a second Deploy with the same key
    /// returns the first container instead of creating another.
    pub request_key: uuid::Uuid,
}

impl std::fmt::Debug for CreateContainerForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateContainerForm")
            .field("spec", &self.spec)
            .field("root_password", &"<hidden>")
            .field("request_key", &self.request_key)
            .finish()
    }
}

impl CreateContainerForm {
    /// Checks the password pair; keys `root_password` and `root_password_confirm`.
    pub fn check_password(&self, e: &mut FieldErrors) {
        if let Err(m) = root_password(&self.root_password) {
            e.add("root_password", m);
        } else if self.root_password != self.root_password_confirm {
            e.add("root_password_confirm", "The passwords do not match.");
        }
    }

    /// Every check; the normalised spec when all pass.
    pub fn validated(&self) -> Result<ContainerSpec, FieldErrors> {
        let mut e = match self.spec.validated() {
            Ok(spec) => {
                let mut e = FieldErrors::new();
                self.check_password(&mut e);
                return e.into_result(spec);
            }
            Err(e) => e,
        };
        self.check_password(&mut e);
        Err(e)
    }
}

fn in_range(value: u32, (min, max): (u32, u32), unit: &str) -> Result<u32, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!("Enter {min} to {max}{unit}."))
    }
}

fn choice(value: &str, what: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(format!("Choose {what}."));
    }
    if v.len() > 128
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("Use letters, digits, '-', '_' and '.' only.".into());
    }
    Ok(v.to_owned())
}

/// Characters of a generated password: letters and digits without the look-alikes (0/O,
/// 1/l/I), plus a few symbols that need no quoting in a shell or a URL.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.+=";
/// Length of a generated password: 20 characters of 61 is about 118 bits.
pub const GENERATED_PASSWORD_LEN: usize = 20;

/// A password from `random` bytes (fresh from the platform's CSPRNG), each byte used or
/// skipped so that every character is equally likely. `None` when the bytes ran out first
/// (ask for [`GENERATED_PASSWORD_LEN`] × 4 bytes and that practically never happens).
pub fn password_from_random(random: &[u8]) -> Option<String> {
    let n = PASSWORD_ALPHABET.len();
    let limit = 256 - 256 % n;
    let password: String = random
        .iter()
        .filter(|b| usize::from(**b) < limit)
        .take(GENERATED_PASSWORD_LEN)
        .map(|b| char::from(PASSWORD_ALPHABET[usize::from(*b) % n]))
        .collect();
    (password.len() == GENERATED_PASSWORD_LEN).then_some(password)
}

/// A VMID within PVE's bounds.
pub fn vmid(value: u32) -> Result<u32, String> {
    in_range(value, VMID_RANGE, "")
}

/// An OS template volume id, `storage:vztmpl/file.tar.(gz|xz|zst)`.
pub fn os_template_volid(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("Choose an OS template.".into());
    }
    let Some((storage, file)) = v.split_once(":vztmpl/") else {
        return Err(
            "Expected a template volume like local:vztmpl/debian-12-standard.tar.zst.".into(),
        );
    };
    choice(storage, "a storage").map_err(|m| format!("Storage: {m}"))?;
    safe_file_name(file, 255)?;
    Ok(v.to_owned())
}

/// A dotted-quad IPv4 address.
pub fn ipv4_address(value: &str) -> Result<Ipv4Addr, String> {
    value
        .trim()
        .parse::<Ipv4Addr>()
        .map_err(|_| "Enter an IPv4 address like 192.168.1.1.".to_owned())
}

/// A host address with prefix, e.g. `192.168.1.50/24`: not the network or broadcast address.
pub fn ipv4_cidr(value: &str) -> Result<(Ipv4Addr, u8), String> {
    let v = value.trim();
    let Some((addr, prefix)) = v.split_once('/') else {
        return Err("Enter an address with its prefix, like 192.168.1.50/24.".into());
    };
    let addr = ipv4_address(addr)?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| (8..=32).contains(p))
        .ok_or("The prefix must be a number from 8 to 32.")?;
    // Loopback is allowed: Proxmox accepts it, and the demo's simulated containers live there.
    if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() {
        return Err("This address cannot be given to a container.".into());
    }
    if prefix <= 30 {
        let mask = u32::MAX << (32 - prefix);
        let host = u32::from(addr) & !mask;
        if host == 0 {
            return Err("This is the network's own address; choose a host address.".into());
        }
        if host == !mask {
            return Err("This is the network's broadcast address; choose a host address.".into());
        }
    }
    Ok((addr, prefix))
}

/// The gateway must lie in the container's subnet and differ from its address.
pub fn gateway_in_subnet(addr: Ipv4Addr, prefix: u8, gateway: Ipv4Addr) -> Result<(), String> {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    if u32::from(addr) & mask != u32::from(gateway) & mask {
        return Err(format!(
            "The gateway must be in the container's network ({}/{prefix}).",
            Ipv4Addr::from(u32::from(addr) & mask)
        ));
    }
    if addr == gateway {
        return Err("The gateway cannot be the container's own address.".into());
    }
    Ok(())
}

/// A root password PVE accepts.
pub fn root_password(value: &str) -> Result<(), String> {
    let n = value.chars().count();
    if n < ROOT_PASSWORD_MIN {
        return Err(format!(
            "Use at least {ROOT_PASSWORD_MIN} characters (Proxmox's minimum)."
        ));
    }
    if n > ROOT_PASSWORD_MAX {
        return Err(format!("Use at most {ROOT_PASSWORD_MAX} characters."));
    }
    if value.chars().any(char::is_control) {
        return Err("The password cannot contain control characters.".into());
    }
    Ok(())
}

/// Key types OpenSSH accepts in `authorized_keys`.
const SSH_KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// One OpenSSH public key line, `type base64 [comment]`; the blob must decode and name the same
/// type. Returns the line trimmed.
pub fn ssh_public_key(value: &str) -> Result<String, String> {
    use base64::Engine;
    let v = value.trim();
    if v.contains('\n') || v.contains('\r') {
        return Err("Paste one key on one line.".into());
    }
    let mut parts = v.split_whitespace();
    let (Some(kind), Some(blob)) = (parts.next(), parts.next()) else {
        return Err("Expected an OpenSSH public key like \"ssh-ed25519 AAAA… you@host\".".into());
    };
    if !SSH_KEY_TYPES.contains(&kind) {
        return Err(format!(
            "Unknown key type \"{kind}\"; use ssh-ed25519, ssh-rsa or ecdsa."
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .map_err(|_| "The key's data is not valid base64.".to_owned())?;
    let inner = bytes
        .get(..4)
        .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
        .and_then(|len| bytes.get(4..4 + len));
    if inner != Some(kind.as_bytes()) {
        return Err("The key's data does not match its type; was it copied whole?".into());
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEHER3fQCbvFkVC/TZwsdcaGyZ7+ADZhzo3OjtKqcQEg me@laptop";

    #[test]
    fn generated_passwords_use_every_character_evenly_and_pass_the_rules() {
        let all: Vec<u8> = (0..=255).cycle().take(256 * 4).collect();
        let password = password_from_random(&all).unwrap();
        assert_eq!(password.len(), GENERATED_PASSWORD_LEN);
        assert!(root_password(&password).is_ok());
        // Bytes past the last whole multiple of the alphabet are skipped, not folded over.
        let n = PASSWORD_ALPHABET.len() as u8;
        let high = vec![255u8; 64];
        assert_eq!(password_from_random(&high), None);
        let mut counts = std::collections::HashMap::new();
        for b in 0..(256 - 256 % u16::from(n)) as u8 {
            let c = password_from_random(&[b; GENERATED_PASSWORD_LEN]).unwrap();
            *counts.entry(c.chars().next().unwrap()).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), PASSWORD_ALPHABET.len());
        assert!(
            counts
                .values()
                .all(|c| *c == counts.values().next().copied().unwrap())
        );
        assert!(!password.contains(['0', 'O', '1', 'l', 'I', ' ', '\'', '"']));
    }

    #[test]
    fn cidrs() {
        for (input, ok) in [
            ("192.168.1.50/24", true),
            ("10.0.0.2/8", true),
            ("192.168.1.50/32", true),
            ("192.168.1.0/24", false),
            ("192.168.1.255/24", false),
            ("192.168.1.50", false),
            ("192.168.1.50/33", false),
            ("192.168.1.50/4", false),
            ("300.1.1.1/24", false),
            ("127.0.0.5/8", true),
            ("224.0.0.5/24", false),
            ("0.0.0.0/24", false),
            ("192.168.1.50/abc", false),
            ("", false),
        ] {
            assert_eq!(ipv4_cidr(input).is_ok(), ok, "{input}");
        }
    }

    #[test]
    fn gateways() {
        let (a, p) = ipv4_cidr("192.168.1.50/24").unwrap();
        assert!(gateway_in_subnet(a, p, "192.168.1.1".parse().unwrap()).is_ok());
        assert!(gateway_in_subnet(a, p, "192.168.2.1".parse().unwrap()).is_err());
        assert!(gateway_in_subnet(a, p, a).is_err());
        let (a, p) = ipv4_cidr("10.1.2.3/16").unwrap();
        assert!(gateway_in_subnet(a, p, "10.1.255.254".parse().unwrap()).is_ok());
        assert!(gateway_in_subnet(a, p, "10.2.0.1".parse().unwrap()).is_err());
    }

    #[test]
    fn vmids() {
        for (v, ok) in [
            (99, false),
            (100, true),
            (12345, true),
            (999_999_999, true),
            (1_000_000_000, false),
            (0, false),
        ] {
            assert_eq!(vmid(v).is_ok(), ok, "{v}");
        }
    }

    #[test]
    fn ssh_keys() {
        assert!(ssh_public_key(ED25519).is_ok());
        assert!(
            ssh_public_key(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEHER3fQCbvFkVC/TZwsdcaGyZ7+ADZhzo3OjtKqcQEg"
            )
            .is_ok()
        );
        for bad in [
            "",
            "ssh-ed25519",
            "ssh-dss AAAAB3NzaC1kc3M= x",
            "ssh-ed25519 not*base64",
            // an RSA blob labelled ed25519
            "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd4\nssh-rsa AAAA",
        ] {
            assert!(ssh_public_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn other_key_types_and_extra_cidrs() {
        for key in [
            "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBnV1VeQHXZsPBUZjogrj/RdpgCaVggOHvOUYf7NISHDMWwQy4q4LAHM4BffbT60K2Qk3FiFYBFzIdsFujxCeCI= me@nas",
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDKmvoSu5GuS+SZmsXHNIFxYcFkju9URSuemDgyREGuYfrE8OtcVjPxKnM+a5b6wa1dUJEa9Rm/vFCMn4BdkkFJhiHANWbrpEJveWe4KFasBbEA45/swKnHQG4DzDOHJZ6JFArEgkg/WEVq6WO5VbX447dbXvJ+W4rmPpEAaWQcgQ== me@old",
        ] {
            assert!(ssh_public_key(key).is_ok(), "{key}");
        }
        // An ECDSA blob labelled RSA.
        assert!(
            ssh_public_key("ssh-rsa AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBnV1VeQ")
                .is_err()
        );
        // Point-to-point /31 and single-host /32 have no network or broadcast address to refuse.
        assert!(ipv4_cidr("10.0.0.0/31").is_ok());
        assert!(ipv4_cidr("10.0.0.7/32").is_ok());
        assert_eq!(
            ipv4_cidr(" 10.0.0.7 /24"),
            Ok((Ipv4Addr::new(10, 0, 0, 7), 24))
        );
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(root_password("äöüß€").is_ok());
        assert!(root_password("äöü€").is_err());
        assert!(root_password("pass\tword").is_err());
    }

    #[test]
    fn tags_are_normalised_and_deduplicated() {
        let spec = ContainerSpec {
            tags: vec!["Web".into(), "web".into(), " home ".into()],
            ..good()
        };
        assert_eq!(spec.validated().unwrap().tags, ["web", "home"]);
    }

    #[test]
    fn passwords() {
        assert!(root_password("abcd").is_err());
        assert!(root_password("abcde").is_ok());
        assert!(root_password("ab\ncde").is_err());
        assert!(root_password(&"x".repeat(257)).is_err());
    }

    fn good() -> ContainerSpec {
        ContainerSpec {
            node_id: NodeId(uuid::Uuid::from_u128(1)),
            hostname: "web-1".into(),
            vmid: 120,
            storage: "local-lvm".into(),
            os_template: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst".into(),
            bridge: "vmbr0".into(),
            ipv4: Ipv4Setup::Static {
                cidr: " 192.168.1.50/24".into(),
                gateway: Some("192.168.1.1".into()),
            },
            ssh_public_key: Some(format!("  {ED25519}\n")),
            ..ContainerSpec::default()
        }
    }

    #[test]
    fn a_good_spec_is_normalised() {
        let spec = good().validated().unwrap();
        assert_eq!(
            spec.ipv4,
            Ipv4Setup::Static {
                cidr: "192.168.1.50/24".into(),
                gateway: Some("192.168.1.1".into())
            }
        );
        assert_eq!(spec.ssh_public_key.as_deref(), Some(ED25519));
        assert_eq!(spec.static_address(), Some(Ipv4Addr::new(192, 168, 1, 50)));
    }

    #[test]
    fn each_bad_field_is_named() {
        type Breaker = fn(&mut ContainerSpec);
        let cases: &[(&str, Breaker)] = &[
            ("hostname", |s| s.hostname = "bad_host".into()),
            ("vmid", |s| s.vmid = 99),
            ("cores", |s| s.cores = 0),
            ("memory_mib", |s| s.memory_mib = 8),
            ("disk_gib", |s| s.disk_gib = 0),
            ("node_id", |s| s.node_id = NodeId(uuid::Uuid::nil())),
            ("storage", |s| s.storage = String::new()),
            ("os_template", |s| s.os_template = "debian.tar.zst".into()),
            ("bridge", |s| s.bridge = "vmbr0; reboot".into()),
            ("ipv4_cidr", |s| {
                s.ipv4 = Ipv4Setup::Static {
                    cidr: "192.168.1.0/24".into(),
                    gateway: None,
                }
            }),
            ("gateway", |s| {
                s.ipv4 = Ipv4Setup::Static {
                    cidr: "192.168.1.5/24".into(),
                    gateway: Some("10.0.0.1".into()),
                }
            }),
            ("nameserver", |s| s.nameserver = Some("dns.example".into())),
            ("ssh_public_key", |s| {
                s.ssh_public_key = Some("hello".into())
            }),
            ("tags", |s| s.tags = vec!["has space".into()]),
            ("packages.0.name", |s| {
                s.packages = vec![Package {
                    name: "curl; rm -rf /".into(),
                    manager: crate::template::PackageManager::Apt,
                    version: None,
                }]
            }),
            ("scripts.0.name", |s| {
                s.scripts = vec![Script {
                    name: "../evil.sh".into(),
                    description: String::new(),
                    content: "echo".into(),
                    enabled: true,
                }]
            }),
            ("files.0.target_dir", |s| {
                s.files = vec![TemplateFile {
                    name: "x".into(),
                    target_dir: "/etc/../..".into(),
                    policy: crate::template::FilePolicy::Replace,
                    content: String::new(),
                }]
            }),
        ];
        for (field, breaker) in cases {
            let mut spec = good();
            breaker(&mut spec);
            let errors = spec.validated().unwrap_err();
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
            assert_eq!(errors.0.len(), 1, "{field}: {errors:?}");
        }
    }

    #[test]
    fn passwords_are_checked_with_the_form() {
        let mut form = CreateContainerForm {
            spec: good(),
            root_password: "secret1".into(),
            root_password_confirm: "secret2".into(),
            request_key: uuid::Uuid::from_u128(9),
        };
        let e = form.validated().unwrap_err();
        assert!(e.get("root_password_confirm").is_some());
        form.root_password_confirm = "secret1".into();
        assert!(form.validated().is_ok());
        assert!(!format!("{form:?}").contains("secret1"));
    }
}
