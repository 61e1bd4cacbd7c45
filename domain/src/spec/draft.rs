//! [`ContainerDraft`]: a container's configuration as the wizard edits it and the create call
//! receives it: plain strings and numbers, checked step by step in the browser and all at once
//! on the server, where a draft that passes becomes a typed [`ContainerSpec`].

use super::{ContainerSpec, Ipv4Config, ssh_public_key};
use crate::template::{
    Package, Script, TemplateFile, limits, safe_file_name, tag, target_directory, validate_packages,
};
use crate::validation::FieldErrors;
use crate::values::{Hostname, Ipv4Cidr, Vmid, ipv4_address};
use crate::{NodeId, TemplateId};
use serde::{Deserialize, Serialize};

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

/// What the user typed, field by field; the wire form of [`ContainerSpec`] too. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerDraft {
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

impl Default for ContainerDraft {
    fn default() -> Self {
        ContainerDraft {
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

impl ContainerDraft {
    /// Checks the Configure step; keys are field names (`hostname`, `ipv4_cidr`, `gateway` …).
    /// The typed spec (with this draft's packages, scripts and files as they are) when it passes.
    pub fn check_configure(&self, e: &mut FieldErrors) -> Option<ContainerSpec> {
        let hostname = e.check("hostname", Hostname::parse(&self.hostname));
        let vmid = e.check("vmid", Vmid::new(self.vmid));
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
            Ipv4Setup::Dhcp => Some(Ipv4Config::Dhcp),
            Ipv4Setup::Static { cidr, gateway } => {
                let cidr = e.check("ipv4_cidr", Ipv4Cidr::parse(cidr));
                let gateway = match gateway.as_deref().map(str::trim) {
                    None | Some("") => Some(None),
                    Some(g) => e
                        .check("gateway", ipv4_address(g))
                        .and_then(|gw| cidr.and_then(|c| e.check("gateway", c.check_gateway(gw))))
                        .map(Some),
                };
                match (cidr, gateway) {
                    (Some(cidr), Some(gateway)) => Some(Ipv4Config::Static { cidr, gateway }),
                    _ => None,
                }
            }
        };
        let nameserver = match self.nameserver.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(ns) => e.check("nameserver", ipv4_address(ns)).map(Some),
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
            node_id: self.node_id,
            template_id: self.template_id,
            template_name: self.template_name.clone(),
            hostname: hostname?,
            vmid: vmid?,
            cores: self.cores,
            memory_mib: self.memory_mib,
            swap_mib: self.swap_mib,
            disk_gib: self.disk_gib,
            storage: storage?,
            os_template: os_template?,
            bridge: bridge?,
            ipv4: ipv4?,
            nameserver: nameserver?,
            ssh_public_key: ssh_public_key?,
            unprivileged: self.unprivileged,
            nesting: self.nesting,
            keyctl: self.keyctl,
            fuse: self.fuse,
            tags,
            packages: self.packages.clone(),
            scripts: self.scripts.clone(),
            files: self.files.clone(),
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

impl From<ContainerSpec> for ContainerDraft {
    fn from(spec: ContainerSpec) -> Self {
        ContainerDraft {
            node_id: spec.node_id,
            template_id: spec.template_id,
            template_name: spec.template_name,
            hostname: spec.hostname.into(),
            vmid: spec.vmid.get(),
            cores: spec.cores,
            memory_mib: spec.memory_mib,
            swap_mib: spec.swap_mib,
            disk_gib: spec.disk_gib,
            storage: spec.storage,
            os_template: spec.os_template,
            bridge: spec.bridge,
            ipv4: match spec.ipv4 {
                Ipv4Config::Dhcp => Ipv4Setup::Dhcp,
                Ipv4Config::Static { cidr, gateway } => Ipv4Setup::Static {
                    cidr: cidr.to_string(),
                    gateway: gateway.map(|g| g.to_string()),
                },
            },
            nameserver: spec.nameserver.map(|n| n.to_string()),
            ssh_public_key: spec.ssh_public_key,
            unprivileged: spec.unprivileged,
            nesting: spec.nesting,
            keyctl: spec.keyctl,
            fuse: spec.fuse,
            tags: spec.tags,
            packages: spec.packages,
            scripts: spec.scripts,
            files: spec.files,
        }
    }
}

/// Reading a stored or sent spec checks it like the create call does.
impl TryFrom<ContainerDraft> for ContainerSpec {
    type Error = FieldErrors;
    fn try_from(draft: ContainerDraft) -> Result<Self, Self::Error> {
        draft.validated()
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::spec::tests::ED25519;
    use std::net::Ipv4Addr;

    #[test]
    fn tags_are_normalised_and_deduplicated() {
        let spec = ContainerDraft {
            tags: vec!["Web".into(), "web".into(), " home ".into()],
            ..good()
        };
        assert_eq!(spec.validated().unwrap().tags, ["web", "home"]);
    }

    #[test]
    fn a_good_spec_is_normalised() {
        let spec = good().validated().unwrap();
        assert_eq!(
            spec.ipv4,
            Ipv4Config::Static {
                cidr: Ipv4Cidr::parse("192.168.1.50/24").unwrap(),
                gateway: Some(Ipv4Addr::new(192, 168, 1, 1))
            }
        );
        assert_eq!(spec.ssh_public_key.as_deref(), Some(ED25519));
        assert_eq!(spec.static_address(), Some(Ipv4Addr::new(192, 168, 1, 50)));
    }

    #[test]
    fn each_bad_field_is_named() {
        type Breaker = fn(&mut ContainerDraft);
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

    pub(crate) fn good() -> ContainerDraft {
        ContainerDraft {
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
            ..ContainerDraft::default()
        }
    }

    #[test]
    fn a_spec_reads_and_writes_as_its_draft_and_is_checked_when_read() {
        let spec = good().validated().unwrap();
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["vmid"], 120);
        assert_eq!(json["hostname"], "web-1");
        assert_eq!(json["ipv4"]["cidr"], "192.168.1.50/24");
        assert_eq!(
            serde_json::from_value::<ContainerSpec>(json.clone()).unwrap(),
            spec
        );
        let mut bad = json;
        bad["vmid"] = 5.into();
        let err = serde_json::from_value::<ContainerSpec>(bad).unwrap_err();
        assert!(err.to_string().contains("vmid"), "{err}");
    }
}
