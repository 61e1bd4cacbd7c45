//! Proxmox VE nodes as the settings page edits them.

use crate::NodeId;
use crate::validation::{self, FieldErrors};
use serde::{Deserialize, Serialize};

/// How infrahaus trusts a node's TLS certificate. There is deliberately no "accept any".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", content = "fingerprint", rename_all = "snake_case")]
pub enum TlsTrust {
    /// Verify the chain against the system's CA store.
    SystemCa,
    /// Accept exactly the certificate with this SHA-256 fingerprint (`AA:BB:…`, 32 bytes).
    Fingerprint(String),
}

/// A node as listed to the user: never carries the token secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSummary {
    pub id: NodeId,
    pub name: String,
    pub host: String,
    pub port: u16,
    /// The node's own SSH port, used when a container is reached through `pct`.
    pub ssh_port: u16,
    pub token_id: String,
    pub tls: TlsTrust,
}

/// The settings form as typed by the user (all text, as inputs hold it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeForm {
    pub name: String,
    pub host: String,
    pub port: String,
    /// Empty means 22.
    pub ssh_port: String,
    pub token_id: String,
    /// Empty on edit means "keep the stored secret".
    pub token_secret: String,
    /// `system_ca` or `fingerprint`.
    pub tls_mode: String,
    pub fingerprint: String,
}

/// A validated node form.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeInput {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub ssh_port: u16,
    pub token_id: String,
    pub token_secret: Option<String>,
    pub tls: TlsTrust,
}

impl std::fmt::Debug for NodeInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeInput")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("ssh_port", &self.ssh_port)
            .field("token_id", &self.token_id)
            .field(
                "token_secret",
                &self.token_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("tls", &self.tls)
            .finish()
    }
}

impl NodeForm {
    /// Validates every field; `secret_required` is true when adding a node.
    pub fn validate(&self, secret_required: bool) -> Result<NodeInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.check("name", validation::required_text(&self.name, 64));
        let host = errors.check("host", validation::network_host(&self.host));
        let port_text = if self.port.trim().is_empty() {
            "8006"
        } else {
            &self.port
        };
        let port = errors.check("port", validation::port(port_text));
        let ssh_port_text = if self.ssh_port.trim().is_empty() {
            "22"
        } else {
            &self.ssh_port
        };
        let ssh_port = errors.check("ssh_port", validation::port(ssh_port_text));
        let token_id = errors.check("token_id", api_token_id(&self.token_id));
        let secret = self.token_secret.trim();
        if secret_required && secret.is_empty() {
            errors.add("token_secret", "Required.");
        } else if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errors.add(
                "token_secret",
                "The secret has no spaces; paste it exactly as Proxmox showed it.",
            );
        }
        let tls = match self.tls_mode.as_str() {
            "system_ca" | "" => Some(TlsTrust::SystemCa),
            "fingerprint" => errors
                .check("fingerprint", sha256_fingerprint(&self.fingerprint))
                .map(TlsTrust::Fingerprint),
            _ => {
                errors.add("tls_mode", "Choose system CA or pinned fingerprint.");
                None
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NodeInput {
            name: name.unwrap_or_default(),
            host: host.unwrap_or_default(),
            port: port.unwrap_or(8006),
            ssh_port: ssh_port.unwrap_or(22),
            token_id: token_id.unwrap_or_default(),
            token_secret: (!secret.is_empty()).then(|| secret.to_owned()),
            tls: tls.unwrap_or(TlsTrust::SystemCa),
        })
    }
}

impl NodeInput {
    /// Why the secret stored for `stored` may not be sent with these settings, if it may not.
    /// A stored secret goes only to the host, port, TLS trust and token it was saved for; a
    /// form that changes one of them must carry the secret again.
    pub fn stored_secret_refusal(&self, stored: &NodeSummary) -> Option<&'static str> {
        if !self.host.eq_ignore_ascii_case(&stored.host) || self.port != stored.port {
            Some("Enter the token secret again: the address changed.")
        } else if self.tls != stored.tls {
            Some("Enter the token secret again: the certificate check changed.")
        } else if self.token_id != stored.token_id {
            Some("Enter the token secret again: the token ID changed.")
        } else {
            None
        }
    }
}

/// A Proxmox API token id: `user@realm!tokenid`.
pub fn api_token_id(value: &str) -> Result<String, String> {
    let value = value.trim();
    let hint = "Use the form user@realm!tokenid, e.g. root@pam!infrahaus.";
    let (userid, token) = value.split_once('!').ok_or_else(|| hint.to_owned())?;
    let (user, realm) = userid.rsplit_once('@').ok_or_else(|| hint.to_owned())?;
    let realm_ok = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.len() >= 2
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    if user.is_empty()
        || user
            .chars()
            .any(|c| c.is_whitespace() || c == ':' || c == '/')
    {
        return Err(hint.into());
    }
    if !realm_ok(realm) || !realm_ok(token) || userid.len() > 64 {
        return Err(hint.into());
    }
    Ok(value.to_owned())
}

/// A SHA-256 certificate fingerprint, with or without colons, normalised to `AA:BB:…`.
pub fn sha256_fingerprint(value: &str) -> Result<String, String> {
    let hex: String = value
        .trim()
        .trim_start_matches("sha256:")
        .trim_start_matches("SHA256:")
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("Paste the SHA-256 fingerprint: 32 hex pairs, e.g. AB:CD:…".into());
    }
    let upper = hex.to_ascii_uppercase();
    let pairs: Vec<&str> = (0..32).map(|i| &upper[i * 2..i * 2 + 2]).collect();
    Ok(pairs.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> NodeForm {
        NodeForm {
            name: "pve".into(),
            host: "192.168.1.5".into(),
            port: "8006".into(),
            ssh_port: String::new(),
            token_id: "root@pam!infrahaus".into(),
            token_secret: "0b5f1d7e-1111-2222-3333-444455556666".into(),
            tls_mode: "fingerprint".into(),
            fingerprint: "ab".repeat(32),
        }
    }

    #[test]
    fn ssh_port_defaults_to_22_and_is_checked() {
        assert_eq!(form().validate(true).unwrap().ssh_port, 22);
        let mut f = form();
        f.ssh_port = "8022".into();
        assert_eq!(f.validate(true).unwrap().ssh_port, 8022);
        f.ssh_port = "70000".into();
        assert!(f.validate(true).unwrap_err().get("ssh_port").is_some());
    }

    #[test]
    fn valid_form_normalises_fingerprint() {
        let input = form().validate(true).unwrap();
        assert_eq!(input.tls, TlsTrust::Fingerprint(["AB"; 32].join(":")));
        assert!(!format!("{input:?}").contains("0b5f1d7e"));
    }

    #[test]
    fn each_bad_field_is_named() {
        type Spoil = fn(&mut NodeForm);
        let cases: [(&str, Spoil); 7] = [
            ("name", |f| f.name = " ".into()),
            ("host", |f| f.host = "https://pve".into()),
            ("port", |f| f.port = "0".into()),
            ("token_id", |f| f.token_id = "root@pam".into()),
            ("token_secret", |f| f.token_secret = String::new()),
            ("fingerprint", |f| f.fingerprint = "abc".into()),
            ("tls_mode", |f| f.tls_mode = "insecure".into()),
        ];
        for (field, spoil) in cases {
            let mut f = form();
            spoil(&mut f);
            let errors = f.validate(true).unwrap_err();
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
            assert_eq!(errors.0.len(), 1, "{field}: {errors:?}");
        }
    }

    #[test]
    fn secret_optional_on_edit() {
        let mut f = form();
        f.token_secret.clear();
        assert_eq!(f.validate(false).unwrap().token_secret, None);
    }

    #[test]
    fn a_stored_secret_stays_with_its_address() {
        let stored = {
            let input = form().validate(true).unwrap();
            NodeSummary {
                id: NodeId::new_random(),
                name: input.name,
                host: input.host,
                port: input.port,
                ssh_port: input.ssh_port,
                token_id: input.token_id,
                tls: input.tls,
            }
        };
        let edited = |spoil: fn(&mut NodeForm)| {
            let mut f = form();
            f.token_secret.clear();
            spoil(&mut f);
            f.validate(false).unwrap().stored_secret_refusal(&stored)
        };
        assert_eq!(edited(|_| {}), None);
        assert_eq!(edited(|f| f.name = "renamed".into()), None);
        assert_eq!(edited(|f| f.host = "192.168.1.5".to_uppercase()), None);
        for spoil in [
            (|f: &mut NodeForm| f.host = "127.0.0.1".into()) as fn(&mut NodeForm),
            |f| f.port = "8443".into(),
            |f| f.tls_mode = "system_ca".into(),
            |f| f.fingerprint = "cd".repeat(32),
            |f| f.token_id = "other@pve!tok".into(),
        ] {
            assert!(edited(spoil).is_some());
        }
    }

    #[test]
    fn token_ids() {
        assert!(api_token_id("root@pam!infrahaus").is_ok());
        assert!(api_token_id("svc@pve!tok-1").is_ok());
        assert!(api_token_id("root!x").is_err());
        assert!(api_token_id("root@pam!").is_err());
        assert!(api_token_id("ro ot@pam!x").is_err());
    }
}

/// A storage that accepts container root disks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageChoice {
    pub name: String,
    /// The storage plugin (`dir`, `lvmthin`, `zfspool` …).
    pub kind: String,
    pub avail_bytes: Option<u64>,
}

/// A network bridge a container can be attached to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeChoice {
    pub name: String,
    /// The bridge's own address, a hint for the container's subnet.
    pub cidr: Option<String>,
}

/// The node's lists for the Configure step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeResources {
    /// The node's name inside Proxmox.
    pub pve_node: String,
    pub storages: Vec<StorageChoice>,
    /// OS template volume ids (`local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`).
    pub os_templates: Vec<String>,
    pub bridges: Vec<BridgeChoice>,
    /// The lowest VMID free on the node and not held by a container infrahaus is creating.
    pub next_vmid: u32,
}

/// Whether a VMID can be used; `reason` says who holds it when it cannot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmidStatus {
    pub vmid: u32,
    pub free: bool,
    pub reason: Option<String>,
}

/// What "Test connection" found on a node, as the settings page shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionReport {
    /// The Proxmox VE version, e.g. `9.0.3`.
    pub version: String,
    /// Every node of the cluster (one for a single host).
    pub nodes: Vec<String>,
    /// The node the rest of the report is about.
    pub node: Option<String>,
    /// Storages that accept container root disks.
    pub rootdir_storages: Vec<String>,
    /// OS templates (`vztmpl` volumes) found on the node.
    pub os_templates: Vec<String>,
    pub bridges: Vec<String>,
    pub next_vmid: Option<u32>,
    /// Privileges a container creation needs that the token lacks.
    pub missing_privileges: Vec<String>,
    /// Why a container could not be created, if it could not.
    pub problems: Vec<String>,
}

impl ConnectionReport {
    pub fn can_create(&self) -> bool {
        self.problems.is_empty()
    }
}
