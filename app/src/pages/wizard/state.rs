//! Everything the wizard holds while the user moves between steps, as signals, and how it
//! becomes the [`CreateContainerForm`] the create call takes.

use crate::pages::templates::fields::next_key;
use domain::spec::{ContainerDraft, ContainerSpec, CreateContainerForm, Ipv4Config, Ipv4Setup};
use domain::template::{Package, PackageManager, Script, Template, TemplateDetail, TemplateFile};
use domain::{FieldErrors, NodeId, TemplateId};
use leptos::prelude::*;

/// The five steps, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Template,
    Configure,
    Packages,
    Scripts,
    Review,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Template,
        Step::Configure,
        Step::Packages,
        Step::Scripts,
        Step::Review,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Step::Template => "Template",
            Step::Configure => "Configure",
            Step::Packages => "Packages",
            Step::Scripts => "Scripts",
            Step::Review => "Review",
        }
    }

    pub fn number(self) -> usize {
        self as usize + 1
    }

    pub fn next(self) -> Step {
        Step::ALL[(self as usize + 1).min(4)]
    }

    pub fn previous(self) -> Step {
        Step::ALL[(self as usize).saturating_sub(1)]
    }

    /// The step whose form holds the field an error is keyed by.
    pub fn of_field(field: &str) -> Step {
        if field.starts_with("packages.") || field.starts_with("custom_package") {
            Step::Packages
        } else if field.starts_with("scripts.") || field.starts_with("files.") {
            Step::Scripts
        } else if field == "template_id" {
            Step::Template
        } else {
            Step::Configure
        }
    }
}

/// Where the template defaults came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Blank,
    Template(TemplateId),
}

/// A package the user can tick, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageChoice {
    pub key: u64,
    pub package: Package,
    /// "template", a bucket's name, or "custom".
    pub source: String,
    pub selected: bool,
}

/// A script in the user's order, enabled or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptChoice {
    pub key: u64,
    pub script: Script,
}

/// The wizard's state; cheap to copy into every step.
#[derive(Clone, Copy)]
pub struct WizardState {
    pub request_key: uuid::Uuid,
    pub step: RwSignal<Step>,
    /// The furthest step reached; the stepper lets the user jump back to any step up to it.
    pub reached: RwSignal<Step>,
    pub errors: RwSignal<FieldErrors>,
    /// An error that belongs to no field, shown above the step.
    pub message: RwSignal<Option<String>>,

    pub origin: RwSignal<Option<Origin>>,
    pub template_name: RwSignal<Option<String>>,
    /// The template's OS name (`debian-12-standard`), matched against the node's templates.
    pub os_hint: RwSignal<String>,

    pub node_id: RwSignal<String>,
    pub hostname: RwSignal<String>,
    pub vmid: RwSignal<String>,
    /// The VMID the wizard filled in from the node; replaced when the node changes.
    pub vmid_filled: RwSignal<Option<String>>,
    pub cores: RwSignal<String>,
    pub memory_mib: RwSignal<String>,
    pub swap_mib: RwSignal<String>,
    pub disk_gib: RwSignal<String>,
    pub storage: RwSignal<String>,
    pub os_template: RwSignal<String>,
    pub bridge: RwSignal<String>,
    /// `dhcp` or `static`.
    pub ipv4_mode: RwSignal<String>,
    pub ipv4_cidr: RwSignal<String>,
    pub gateway: RwSignal<String>,
    pub nameserver: RwSignal<String>,
    pub root_password: RwSignal<String>,
    pub root_password_confirm: RwSignal<String>,
    pub ssh_public_key: RwSignal<String>,
    pub unprivileged: RwSignal<bool>,
    pub nesting: RwSignal<bool>,
    pub keyctl: RwSignal<bool>,
    pub fuse: RwSignal<bool>,
    /// Comma- or space-separated.
    pub tags: RwSignal<String>,

    pub packages: RwSignal<Vec<PackageChoice>>,
    pub scripts: RwSignal<Vec<ScriptChoice>>,
    pub files: RwSignal<Vec<TemplateFile>>,
}

impl Default for WizardState {
    fn default() -> Self {
        Self::new()
    }
}

impl WizardState {
    pub fn new() -> Self {
        let text = |s: &str| RwSignal::new(s.to_owned());
        let state = WizardState {
            request_key: uuid::Uuid::new_v4(),
            step: RwSignal::new(Step::Template),
            reached: RwSignal::new(Step::Template),
            errors: RwSignal::new(FieldErrors::default()),
            message: RwSignal::new(None),
            origin: RwSignal::new(None),
            template_name: RwSignal::new(None),
            os_hint: text(""),
            node_id: text(""),
            hostname: text(""),
            vmid: text(""),
            vmid_filled: RwSignal::new(None),
            cores: text(""),
            memory_mib: text(""),
            swap_mib: text(""),
            disk_gib: text(""),
            storage: text(""),
            os_template: text(""),
            bridge: text(""),
            ipv4_mode: text("dhcp"),
            ipv4_cidr: text(""),
            gateway: text(""),
            nameserver: text(""),
            root_password: text(""),
            root_password_confirm: text(""),
            ssh_public_key: text(""),
            unprivileged: RwSignal::new(true),
            nesting: RwSignal::new(true),
            keyctl: RwSignal::new(false),
            fuse: RwSignal::new(false),
            tags: text(""),
            packages: RwSignal::new(Vec::new()),
            scripts: RwSignal::new(Vec::new()),
            files: RwSignal::new(Vec::new()),
        };
        state.apply_defaults(&Template::default(), &[]);
        state
    }

    /// Goes to `step`, remembering how far the user got.
    pub fn go(&self, step: Step) {
        self.message.set(None);
        self.step.set(step);
        if step > self.reached.get_untracked() {
            self.reached.set(step);
        }
    }

    /// Fills every step with a template's defaults (or the blank ones), replacing what was
    /// there. The node, VMID, password, key and network stay as entered.
    pub fn apply(&self, origin: Origin, detail: Option<&TemplateDetail>) {
        let blank = Template::default();
        let template = detail.map_or(&blank, |d| &d.template);
        let buckets: Vec<(String, Vec<Package>)> = detail
            .map(|d| {
                d.buckets
                    .iter()
                    .map(|b| (b.bucket.name.clone(), b.bucket.packages.clone()))
                    .collect()
            })
            .unwrap_or_default();
        self.apply_defaults(template, &buckets);
        self.origin.set(Some(origin));
        self.template_name
            .set(detail.map(|d| d.template.name.clone()));
        if self.hostname.get_untracked().trim().is_empty()
            && let Some(d) = detail
            && let Ok(name) = domain::validation::hostname(&host_from(&d.template.name))
        {
            self.hostname.set(name);
        }
        self.errors.set(FieldErrors::default());
    }

    /// Fills every step with an existing container's answers, for "Create another like this":
    /// the same node, template, resources, network choice, key, options, packages, scripts and
    /// files; a new hostname; the VMID left for the node to suggest; no static address (two
    /// containers cannot share one) and no password. Opens the Configure step.
    pub fn copy_from(&self, spec: &ContainerSpec) {
        self.origin.set(Some(match spec.template_id {
            Some(id) => Origin::Template(id),
            None => Origin::Blank,
        }));
        self.template_name.set(spec.template_name.clone());
        self.node_id.set(spec.node_id.to_string());
        self.hostname.set(next_hostname(spec.hostname.as_str()));
        self.vmid.set(String::new());
        self.vmid_filled.set(None);
        self.cores.set(spec.cores.to_string());
        self.memory_mib.set(spec.memory_mib.to_string());
        self.swap_mib.set(spec.swap_mib.to_string());
        self.disk_gib.set(spec.disk_gib.to_string());
        self.storage.set(spec.storage.clone());
        self.os_hint.set(String::new());
        self.os_template.set(spec.os_template.clone());
        self.bridge.set(spec.bridge.clone());
        match spec.ipv4 {
            Ipv4Config::Dhcp => self.ipv4_mode.set("dhcp".into()),
            Ipv4Config::Static { gateway, .. } => {
                self.ipv4_mode.set("static".into());
                self.ipv4_cidr.set(String::new());
                self.gateway
                    .set(gateway.map(|g| g.to_string()).unwrap_or_default());
            }
        }
        self.nameserver
            .set(spec.nameserver.map(|n| n.to_string()).unwrap_or_default());
        self.ssh_public_key
            .set(spec.ssh_public_key.clone().unwrap_or_default());
        self.unprivileged.set(spec.unprivileged);
        self.nesting.set(spec.nesting);
        self.keyctl.set(spec.keyctl);
        self.fuse.set(spec.fuse);
        self.tags.set(spec.tags.join(", "));
        self.packages.set(
            spec.packages
                .iter()
                .map(|p| PackageChoice {
                    key: next_key(),
                    package: p.clone(),
                    source: "template".into(),
                    selected: true,
                })
                .collect(),
        );
        self.scripts.set(
            spec.scripts
                .iter()
                .map(|s| ScriptChoice {
                    key: next_key(),
                    script: s.clone(),
                })
                .collect(),
        );
        self.files.set(spec.files.clone());
        self.errors.set(FieldErrors::default());
        self.go(Step::Configure);
    }

    fn apply_defaults(&self, t: &Template, buckets: &[(String, Vec<Package>)]) {
        self.os_hint.set(t.os_template.clone());
        self.os_template.set(String::new());
        self.cores.set(t.cores.to_string());
        self.memory_mib.set(t.memory_mib.to_string());
        self.swap_mib.set(t.swap_mib.to_string());
        self.disk_gib.set(t.disk_gib.to_string());
        self.storage.set(t.storage.clone());
        self.bridge.set(t.bridge.clone());
        self.unprivileged.set(t.unprivileged);
        self.nesting.set(t.nesting);
        self.keyctl.set(t.keyctl);
        self.fuse.set(t.fuse);
        self.tags.set(t.tags.join(", "));
        let choice = |package: &Package, source: &str| PackageChoice {
            key: next_key(),
            package: package.clone(),
            source: source.to_owned(),
            selected: true,
        };
        let mut packages: Vec<PackageChoice> =
            t.packages.iter().map(|p| choice(p, "template")).collect();
        for (name, list) in buckets {
            packages.extend(list.iter().map(|p| choice(p, name)));
        }
        self.packages.set(packages);
        self.scripts.set(
            t.scripts
                .iter()
                .map(|s| ScriptChoice {
                    key: next_key(),
                    script: s.clone(),
                })
                .collect(),
        );
        self.files.set(t.files.clone());
    }

    /// Each Configure input with the error keys that editing it makes stale.
    pub fn inputs(&self) -> Vec<(RwSignal<String>, &'static [&'static str])> {
        vec![
            (self.node_id, &["node_id", "vmid"]),
            (self.hostname, &["hostname"]),
            (self.vmid, &["vmid"]),
            (self.cores, &["cores"]),
            (self.memory_mib, &["memory_mib"]),
            (self.swap_mib, &["swap_mib"]),
            (self.disk_gib, &["disk_gib"]),
            (self.storage, &["storage"]),
            (self.os_template, &["os_template"]),
            (self.bridge, &["bridge"]),
            (self.ipv4_mode, &["ipv4_cidr", "gateway"]),
            (self.ipv4_cidr, &["ipv4_cidr", "gateway"]),
            (self.gateway, &["gateway"]),
            (self.nameserver, &["nameserver"]),
            (
                self.root_password,
                &["root_password", "root_password_confirm"],
            ),
            (self.root_password_confirm, &["root_password_confirm"]),
            (self.ssh_public_key, &["ssh_public_key"]),
            (self.tags, &["tags"]),
        ]
    }

    /// The ticked packages in order, each (name, manager) once, with the key of its row.
    pub fn selected_packages(&self) -> Vec<(u64, Package)> {
        self.packages.with(|list| {
            let mut seen = std::collections::HashSet::new();
            list.iter()
                .filter(|c| c.selected)
                .filter(|c| seen.insert((c.package.name.trim().to_owned(), c.package.manager)))
                .map(|c| (c.key, c.package.clone()))
                .collect()
        })
    }

    /// The number fields of the Configure step, by field name.
    fn number_fields(&self) -> [(&'static str, RwSignal<String>); 5] {
        [
            ("vmid", self.vmid),
            ("cores", self.cores),
            ("memory_mib", self.memory_mib),
            ("swap_mib", self.swap_mib),
            ("disk_gib", self.disk_gib),
        ]
    }

    /// "Enter a whole number." for each number field whose text is not one (recorded before
    /// the range checks, which then see 0 for it).
    fn check_numbers(&self, e: &mut FieldErrors) {
        for (field, signal) in self.number_fields() {
            if signal.get_untracked().trim().parse::<u32>().is_err() {
                e.add(field, "Enter a whole number.");
            }
        }
    }

    /// The configuration as entered (not yet validated); a number field whose text is not a
    /// whole number reads as 0 (see [`Self::check_numbers`]).
    pub fn draft(&self) -> ContainerDraft {
        let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<u32>().unwrap_or(0);
        let optional = |s: RwSignal<String>| {
            let v = s.get_untracked();
            (!v.trim().is_empty()).then(|| v.trim().to_owned())
        };
        let ipv4 = if self.ipv4_mode.get_untracked() == "static" {
            Ipv4Setup::Static {
                cidr: self.ipv4_cidr.get_untracked(),
                gateway: optional(self.gateway),
            }
        } else {
            Ipv4Setup::Dhcp
        };
        let template_id = match self.origin.get_untracked() {
            Some(Origin::Template(id)) => Some(id),
            _ => None,
        };
        ContainerDraft {
            node_id: self
                .node_id
                .get_untracked()
                .parse()
                .unwrap_or(NodeId(uuid::Uuid::nil())),
            template_id,
            template_name: self.template_name.get_untracked(),
            hostname: self.hostname.get_untracked(),
            vmid: number(self.vmid),
            cores: number(self.cores),
            memory_mib: number(self.memory_mib),
            swap_mib: number(self.swap_mib),
            disk_gib: number(self.disk_gib),
            storage: self.storage.get_untracked(),
            os_template: self.os_template.get_untracked(),
            bridge: self.bridge.get_untracked(),
            ipv4,
            nameserver: optional(self.nameserver),
            ssh_public_key: optional(self.ssh_public_key),
            unprivileged: self.unprivileged.get_untracked(),
            nesting: self.nesting.get_untracked(),
            keyctl: self.keyctl.get_untracked(),
            fuse: self.fuse.get_untracked(),
            tags: self
                .tags
                .get_untracked()
                .split([',', ' '])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            packages: self
                .selected_packages()
                .into_iter()
                .map(|(_, p)| p)
                .collect(),
            scripts: self
                .scripts
                .get_untracked()
                .into_iter()
                .map(|c| c.script)
                .collect(),
            files: self.files.get_untracked(),
        }
    }

    /// What Deploy sends.
    pub fn form(&self) -> CreateContainerForm {
        CreateContainerForm {
            spec: self.draft(),
            root_password: self.root_password.get_untracked(),
            root_password_confirm: self.root_password_confirm.get_untracked(),
            request_key: self.request_key,
        }
    }

    /// The checks of one step, the same functions the server runs.
    pub fn check(&self, step: Step) -> FieldErrors {
        let mut e = FieldErrors::new();
        let form = self.form();
        match step {
            Step::Template => {
                if self.origin.get_untracked().is_none() {
                    e.add("template", "Choose a template or start blank.");
                }
            }
            Step::Configure => {
                self.check_numbers(&mut e);
                form.spec.check_configure(&mut e);
                form.check_password(&mut e);
            }
            Step::Packages => {
                form.spec.check_packages(&mut e);
            }
            Step::Scripts => form.spec.check_scripts_and_files(&mut e),
            Step::Review => {
                self.check_numbers(&mut e);
                if let Err(all) = form.validated() {
                    for (field, message) in all.0 {
                        e.add(&field, message);
                    }
                }
            }
        }
        e
    }

    /// Adds a custom package after checking it; errors go to `custom_package_name|version`.
    pub fn add_custom_package(
        &self,
        name: &str,
        manager: PackageManager,
        version: &str,
    ) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.check(
            "custom_package_name",
            domain::template::package_name(name, manager),
        );
        let version = e.check(
            "custom_package_version",
            domain::template::package_version(version),
        );
        let (Some(name), Some(version)) = (name, version) else {
            return Err(e);
        };
        let exists = self.packages.with_untracked(|list| {
            list.iter()
                .any(|c| c.package.name == name && c.package.manager == manager)
        });
        if exists {
            e.add(
                "custom_package_name",
                "This package is already in the list.",
            );
            return Err(e);
        }
        self.packages.update(|list| {
            list.push(PackageChoice {
                key: next_key(),
                package: Package {
                    name,
                    manager,
                    version,
                },
                source: "custom".into(),
                selected: true,
            })
        });
        Ok(())
    }
}

/// A host name guess from a template name: `Web Server` → `web-server`.
fn host_from(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(63).collect()
}

/// The hostname for a copy: `web-1` → `web-2`, `web` → `web-2`, `web-9` → `web-10`.
pub fn next_hostname(hostname: &str) -> String {
    let (base, number) = match hostname.rsplit_once('-') {
        Some((base, n)) if !base.is_empty() => match n.parse::<u32>() {
            Ok(n) => (base, n.saturating_add(1)),
            Err(_) => (hostname, 2),
        },
        _ => (hostname, 2),
    };
    let suffix = format!("-{number}");
    // A DNS label has at most 63 characters.
    let keep = base.len().min(63usize.saturating_sub(suffix.len()));
    format!("{}{suffix}", &base[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_gets_the_next_hostname() {
        assert_eq!(next_hostname("web-1"), "web-2");
        assert_eq!(next_hostname("web"), "web-2");
        assert_eq!(next_hostname("web-9"), "web-10");
        assert_eq!(next_hostname("dev-box"), "dev-box-2");
        assert_eq!(next_hostname(&"a".repeat(63)).len(), 63);
        assert!(domain::validation::hostname(&next_hostname(&"a".repeat(63))).is_ok());
    }

    #[test]
    fn host_names_from_template_names() {
        assert_eq!(host_from("Web Server"), "web-server");
        assert_eq!(host_from("  nginx (proxy) "), "nginx-proxy");
        assert_eq!(host_from("---"), "");
    }

    #[test]
    fn errors_are_sent_to_the_step_holding_the_field() {
        assert_eq!(Step::of_field("hostname"), Step::Configure);
        assert_eq!(Step::of_field("root_password"), Step::Configure);
        assert_eq!(Step::of_field("packages.2.name"), Step::Packages);
        assert_eq!(Step::of_field("scripts.0.content"), Step::Scripts);
        assert_eq!(Step::of_field("files.1.target_dir"), Step::Scripts);
        assert_eq!(Step::of_field("template_id"), Step::Template);
    }
}
