//! The fixed demo inventory of every node: storages, OS templates, bridges, appliances.

use serde_json::{Value, json};

/// A storage as `storage.cfg` would define it.
pub struct Storage {
    pub id: &'static str,
    pub kind: &'static str,
    pub content: &'static [&'static str],
    pub total: u64,
}

impl Storage {
    pub fn supports(&self, content: &str) -> bool {
        self.content.contains(&content)
    }
}

pub const STORAGES: &[Storage] = &[
    Storage {
        id: "local",
        kind: "dir",
        content: &["vztmpl", "iso", "backup"],
        total: 100 * GIB,
    },
    Storage {
        id: "local-lvm",
        kind: "lvmthin",
        content: &["rootdir", "images"],
        total: 348 * GIB,
    },
];

const GIB: u64 = 1024 * 1024 * 1024;

pub fn storage(id: &str) -> Option<&'static Storage> {
    STORAGES.iter().find(|s| s.id == id)
}

/// An OS template in `local:vztmpl/`.
pub struct Template {
    pub file: &'static str,
    pub size: u64,
    pub ctime: i64,
    pub ostype: &'static str,
    pub os_release: &'static str,
}

pub const TEMPLATES: &[Template] = &[
    Template {
        file: "debian-12-standard_12.7-1_amd64.tar.zst",
        size: 126_440_476,
        ctime: 1_732_026_413,
        ostype: "debian",
        os_release: "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n",
    },
    Template {
        file: "ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
        size: 141_982_336,
        ctime: 1_730_114_012,
        ostype: "ubuntu",
        os_release: "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nVERSION=\"24.04.1 LTS (Noble Numbat)\"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n",
    },
];

/// The template behind a volume id like `local:vztmpl/debian-12-...tar.zst`.
pub fn template(volid: &str) -> Option<&'static Template> {
    let file = volid.strip_prefix("local:vztmpl/")?;
    TEMPLATES.iter().find(|t| t.file == file)
}

/// PVE's vztmpl format: `t` + compression.
pub fn template_format(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("zst") => "tzst",
        Some("xz") => "txz",
        Some("gz") => "tgz",
        Some("bz2") => "tbz2",
        _ => "tar",
    }
}

/// A bridge of the node.
pub const BRIDGES: &[&str] = &["vmbr0"];

/// `GET /nodes/{node}/network` rows: one bridge and its physical port.
pub fn network() -> Vec<Value> {
    vec![
        json!({
            "type": "bridge", "iface": "vmbr0", "method": "static", "method6": "manual",
            "address": "192.168.100.2", "netmask": "24", "cidr": "192.168.100.2/24",
            "gateway": "192.168.100.1", "bridge_ports": "nic0", "bridge_stp": "off", "bridge_fd": "0",
            "families": ["inet"], "priority": 4, "active": 1, "autostart": 1
        }),
        json!({
            "type": "eth", "iface": "nic0", "method": "manual", "method6": "manual",
            "families": ["inet"], "priority": 3, "active": 1, "exists": 1,
            "altnames": ["enp1s0", "enxbc2411000001"]
        }),
    ]
}

/// `GET /nodes/{node}/aplinfo`: the downloadable system templates.
pub fn appliances() -> Vec<Value> {
    let entry = |package: &str, version: &str, os: &str, file: &str, headline: &str| {
        json!({
            "package": package, "version": version, "type": "lxc", "os": os, "section": "system",
            "maintainer": "Proxmox Support Team <support@proxmox.com>", "architecture": "amd64",
            "location": format!("http://download.proxmox.com/images/system/{file}"),
            "md5sum": "0123456789abcdef0123456789abcdef",
            "sha512sum": "0".repeat(128),
            "infopage": "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
            "headline": headline, "description": headline,
            "source": "http://download.proxmox.com/images", "template": file
        })
    };
    vec![
        entry(
            "debian-12-standard",
            "12.7-1",
            "debian-12",
            TEMPLATES[0].file,
            "Debian 12 Bookworm (standard)",
        ),
        entry(
            "ubuntu-24.04-standard",
            "24.04-2",
            "ubuntu-24.04",
            TEMPLATES[1].file,
            "Ubuntu 24.04 Noble (standard)",
        ),
        entry(
            "alpine-3.22-default",
            "20250617",
            "alpine",
            "alpine-3.22-default_20250617_amd64.tar.xz",
            "LXC default image for alpine 3.22 (20250617)",
        ),
    ]
}
