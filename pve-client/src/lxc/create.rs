//! Parameters of `POST /nodes/{node}/lxc`, as the wizard sets them.

use std::fmt;

use super::net::NetConfig;
use crate::form::FormBody;

/// A new root disk: `rootfs=<storage>:<size in GiB>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootFs {
    /// Storage that allows `rootdir` content.
    pub storage: String,
    /// Size in GiB.
    pub size_gib: u32,
}

/// The `features` flags the wizard offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CtFeatures {
    /// Nested containers / systemd needs; `VM.Allocate` suffices.
    pub nesting: bool,
    /// keyctl() for unprivileged containers (Docker).
    pub keyctl: bool,
    /// FUSE mounts (root@pam only on real servers).
    pub fuse: bool,
}

impl CtFeatures {
    /// `nesting=1,keyctl=1`, or `None` when nothing is set.
    pub fn to_pve_string(self) -> Option<String> {
        let parts: Vec<&str> = [
            (self.nesting, "nesting=1"),
            (self.keyctl, "keyctl=1"),
            (self.fuse, "fuse=1"),
        ]
        .into_iter()
        .filter_map(|(on, text)| on.then_some(text))
        .collect();
        (!parts.is_empty()).then(|| parts.join(","))
    }
}

/// Everything the create wizard sends. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct CreateCt {
    pub vmid: u32,
    /// Template volid, `<storage>:vztmpl/<file>`.
    pub ostemplate: String,
    pub hostname: Option<String>,
    /// Root password (at least 5 characters).
    pub password: Option<String>,
    /// OpenSSH public keys, one per line.
    pub ssh_public_keys: Option<String>,
    pub cores: Option<u32>,
    /// MiB.
    pub memory_mib: Option<u32>,
    /// MiB.
    pub swap_mib: Option<u32>,
    pub rootfs: Option<RootFs>,
    pub net0: Option<NetConfig>,
    /// DNS server addresses, space separated.
    pub nameserver: Option<String>,
    pub features: CtFeatures,
    /// PVE's create default is unprivileged.
    pub unprivileged: bool,
    pub tags: Vec<String>,
    pub onboot: bool,
    pub description: Option<String>,
    /// Start the container at the end of the create task.
    pub start: bool,
}

impl CreateCt {
    /// Minimal parameters; everything else at the wizard's defaults (unprivileged).
    pub fn new(vmid: u32, ostemplate: impl Into<String>) -> Self {
        CreateCt {
            vmid,
            ostemplate: ostemplate.into(),
            hostname: None,
            password: None,
            ssh_public_keys: None,
            cores: None,
            memory_mib: None,
            swap_mib: None,
            rootfs: None,
            net0: None,
            nameserver: None,
            features: CtFeatures::default(),
            unprivileged: true,
            tags: Vec::new(),
            onboot: false,
            description: None,
            start: false,
        }
    }

    /// The form fields, with booleans as `1`/`0`.
    pub fn to_form(&self) -> FormBody {
        let tags: Vec<&str> = self
            .tags
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .collect();
        FormBody::new()
            .text("vmid", self.vmid.to_string())
            .text("ostemplate", &*self.ostemplate)
            .opt_text("hostname", self.hostname.as_deref())
            .opt_text("password", self.password.as_deref())
            .opt_text("ssh-public-keys", self.ssh_public_keys.as_deref())
            .opt_text("cores", self.cores.map(|c| c.to_string()))
            .opt_text("memory", self.memory_mib.map(|m| m.to_string()))
            .opt_text("swap", self.swap_mib.map(|s| s.to_string()))
            .opt_text(
                "rootfs",
                self.rootfs
                    .as_ref()
                    .map(|r| format!("{}:{}", r.storage, r.size_gib)),
            )
            .opt_text("net0", self.net0.as_ref().map(NetConfig::to_pve_string))
            .opt_text("nameserver", self.nameserver.as_deref())
            .opt_text("features", self.features.to_pve_string())
            .flag("unprivileged", self.unprivileged)
            .opt_text("tags", (!tags.is_empty()).then(|| tags.join(";")))
            .flag("onboot", self.onboot)
            .opt_text("description", self.description.as_deref())
            .flag("start", self.start)
    }
}

impl fmt::Debug for CreateCt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateCt")
            .field("vmid", &self.vmid)
            .field("ostemplate", &self.ostemplate)
            .field("hostname", &self.hostname)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ssh_public_keys", &self.ssh_public_keys.is_some())
            .field("cores", &self.cores)
            .field("memory_mib", &self.memory_mib)
            .field("swap_mib", &self.swap_mib)
            .field("rootfs", &self.rootfs)
            .field("net0", &self.net0)
            .field("nameserver", &self.nameserver)
            .field("features", &self.features)
            .field("unprivileged", &self.unprivileged)
            .field("tags", &self.tags)
            .field("onboot", &self.onboot)
            .field("description", &self.description)
            .field("start", &self.start)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_wizard_form() {
        let ct = CreateCt {
            hostname: Some("web".into()),
            password: Some("s3cret pw".into()),
            ssh_public_keys: Some("ssh-ed25519 AAAA+x me@a\nssh-ed25519 BBBB me@b".into()),
            cores: Some(2),
            memory_mib: Some(1024),
            swap_mib: Some(512),
            rootfs: Some(RootFs {
                storage: "local-lvm".into(),
                size_gib: 8,
            }),
            net0: Some(NetConfig::static_ip(
                "vmbr0",
                "192.168.1.50/24",
                Some("192.168.1.1".into()),
            )),
            nameserver: Some("1.1.1.1".into()),
            features: CtFeatures {
                nesting: true,
                keyctl: true,
                fuse: false,
            },
            tags: vec!["infrahaus".into(), " web ".into()],
            onboot: true,
            description: Some("made by infrahaus".into()),
            ..CreateCt::new(100, "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")
        };
        let form = ct.to_form();
        let get = |k| form.get(k).unwrap_or("<absent>");
        assert_eq!(get("vmid"), "100");
        assert_eq!(get("rootfs"), "local-lvm:8");
        assert_eq!(
            get("net0"),
            "name=eth0,bridge=vmbr0,ip=192.168.1.50/24,gw=192.168.1.1"
        );
        assert_eq!(get("features"), "nesting=1,keyctl=1");
        assert_eq!(get("unprivileged"), "1");
        assert_eq!(get("onboot"), "1");
        assert_eq!(get("start"), "0");
        assert_eq!(get("tags"), "infrahaus;web");
        assert_eq!(get("memory"), "1024");
        assert!(form.encode().contains(
            "ssh-public-keys=ssh-ed25519%20AAAA%2Bx%20me%40a%0Assh-ed25519%20BBBB%20me%40b"
        ));
        let debug = format!("{ct:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    #[test]
    fn minimal_form_leaves_out_unset_fields() {
        let form = CreateCt::new(101, "local:vztmpl/a.tar.zst").to_form();
        let keys: Vec<&str> = form.fields().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["vmid", "ostemplate", "unprivileged", "onboot", "start"]
        );
    }
}
