//! Templates: an OS image plus default resources, scripts, files and packages; and package
//! buckets, named package lists a template can include. Validation here runs in the browser
//! and on the server.

use crate::validation::FieldErrors;
use crate::{BucketId, TemplateId, text_enum};
use serde::{Deserialize, Serialize};

text_enum!(
    /// Where a template came from.
    TemplateSource {
        /// Discovered from the templates folder.
        Filesystem => "filesystem",
        /// Created in the app.
        Custom => "custom",
    }
);

text_enum!(
    /// How a package is installed.
    PackageManager {
        Apt => "apt",
        Npm => "npm",
        Pip => "pip",
        /// Installed by the container's `/etc/config-manager/install-custom.sh NAME [VERSION]`.
        Custom => "custom",
    }
);

text_enum!(
    /// What to do when a template file's target already exists.
    FilePolicy {
        /// Overwrite it.
        Replace => "replace",
        /// Write only if absent.
        Default => "default",
        /// Keep the old file as `NAME.bak`, then write.
        Backup => "backup",
    }
);

/// A setup script, run in list order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub name: String,
    pub description: String,
    pub content: String,
    pub enabled: bool,
}

/// A file written into the container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateFile {
    pub name: String,
    /// Absolute directory the file goes into.
    pub target_dir: String,
    pub policy: FilePolicy,
    pub content: String,
}

impl TemplateFile {
    /// The full path inside the container.
    pub fn target_path(&self) -> String {
        if self.target_dir == "/" {
            format!("/{}", self.name)
        } else {
            format!("{}/{}", self.target_dir, self.name)
        }
    }
}

/// A package to install.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub manager: PackageManager,
    pub version: Option<String>,
}

/// A template with everything it carries, as saved and edited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub description: String,
    pub source: TemplateSource,
    pub version: String,
    /// OS template name, e.g. `debian-12-standard`; matched against the node's `vztmpl` volumes.
    pub os_template: String,
    pub cores: u32,
    pub memory_mib: u32,
    pub swap_mib: u32,
    pub disk_gib: u32,
    pub storage: String,
    pub bridge: String,
    pub unprivileged: bool,
    pub nesting: bool,
    pub keyctl: bool,
    pub fuse: bool,
    pub tags: Vec<String>,
    pub scripts: Vec<Script>,
    pub files: Vec<TemplateFile>,
    pub packages: Vec<Package>,
    pub bucket_ids: Vec<BucketId>,
}

impl Default for Template {
    fn default() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            source: TemplateSource::Custom,
            version: String::new(),
            os_template: "debian-12-standard".into(),
            cores: 1,
            memory_mib: 512,
            swap_mib: 512,
            disk_gib: 8,
            storage: String::new(),
            bridge: String::new(),
            unprivileged: true,
            nesting: true,
            keyctl: false,
            fuse: false,
            tags: Vec::new(),
            scripts: Vec::new(),
            files: Vec::new(),
            packages: Vec::new(),
            bucket_ids: Vec::new(),
        }
    }
}

/// A template with its id, as the detail page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateDetail {
    pub id: TemplateId,
    pub template: Template,
    /// The buckets it includes, with their packages.
    pub buckets: Vec<BucketDetail>,
}

/// A template in the list: resources and counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSummary {
    pub id: TemplateId,
    pub name: String,
    pub description: String,
    pub source: TemplateSource,
    pub os_template: String,
    pub cores: u32,
    pub memory_mib: u32,
    pub disk_gib: u32,
    pub tags: Vec<String>,
    pub script_count: u32,
    pub file_count: u32,
    pub package_count: u32,
}

/// A package bucket as edited.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    pub description: String,
    pub packages: Vec<Package>,
}

/// A stored package bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketDetail {
    pub id: BucketId,
    pub bucket: Bucket,
}

/// PVE's limits for the resources a template sets (from the API schema).
pub mod limits {
    pub const CORES: (u32, u32) = (1, 8192);
    pub const MEMORY_MIB: (u32, u32) = (16, 4 * 1024 * 1024);
    pub const SWAP_MIB: (u32, u32) = (0, 4 * 1024 * 1024);
    pub const DISK_GIB: (u32, u32) = (1, 128 * 1024);
}

fn in_range(value: u32, (min, max): (u32, u32), unit: &str) -> Result<u32, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!("Enter {min} to {max}{unit}."))
    }
}

/// A name usable as a file name in a shell-free way: letters, digits, `.`, `_`, `-`.
pub fn safe_file_name(value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("Required.".into());
    }
    if value.len() > max {
        return Err(format!("At most {max} characters."));
    }
    if value == "." || value == ".." || value.starts_with('-') {
        return Err("Not a usable file name.".into());
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(
            "Use only letters, digits, dots, underscores and hyphens (no / or spaces).".into(),
        );
    }
    Ok(value.to_owned())
}

/// An absolute directory, normalised (`//` and `.` removed, no trailing `/`); `..` is refused.
pub fn target_directory(value: &str) -> Result<String, String> {
    let value = value.trim();
    if !value.starts_with('/') {
        return Err("Use an absolute path starting with /.".into());
    }
    if value.chars().any(|c| c.is_control()) {
        return Err("Control characters are not allowed.".into());
    }
    if value.len() > 4096 {
        return Err("At most 4096 characters.".into());
    }
    let mut parts = Vec::new();
    for part in value.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("“..” is not allowed: the path must stay where it says.".into()),
            other => parts.push(other),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// A package name valid for its manager: no spaces or shell metacharacters.
pub fn package_name(name: &str, manager: PackageManager) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Required.".into());
    }
    let lower_alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = match manager {
        // Debian policy: lowercase letters, digits, + - . ; at least two characters.
        PackageManager::Apt => {
            name.len() >= 2
                && name.starts_with(lower_alnum)
                && name
                    .chars()
                    .all(|c| lower_alnum(c) || matches!(c, '+' | '-' | '.'))
        }
        // npm: optional @scope/, then lowercase URL-safe characters, at most 214.
        PackageManager::Npm => {
            let bare = match name.strip_prefix('@') {
                Some(scoped) => match scoped.split_once('/') {
                    Some((scope, rest)) if !scope.is_empty() => scope
                        .chars()
                        .all(|c| lower_alnum(c) || matches!(c, '-' | '.' | '_' | '~'))
                        .then_some(rest),
                    _ => None,
                },
                None => Some(name),
            };
            name.len() <= 214
                && bare.is_some_and(|b| {
                    !b.is_empty()
                        && !b.starts_with(['.', '_'])
                        && b.chars()
                            .all(|c| lower_alnum(c) || matches!(c, '-' | '.' | '_' | '~'))
                })
        }
        // PEP 508 names: letters, digits, . _ - ; starting and ending alphanumeric.
        PackageManager::Pip => {
            name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && name.ends_with(|c: char| c.is_ascii_alphanumeric())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        }
        PackageManager::Custom => {
            name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        }
    };
    if ok && name.len() <= 214 {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "Not a valid {manager} package name (no spaces or shell characters)."
        ))
    }
}

/// A package version: letters, digits and `. + ~ : - * = < > !` (no spaces or shell characters).
pub fn package_version(version: &str) -> Result<Option<String>, String> {
    let version = version.trim();
    if version.is_empty() {
        return Ok(None);
    }
    if version.len() <= 64
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~:-*=<>!_".contains(c))
    {
        Ok(Some(version.to_owned()))
    } else {
        Err("Use letters, digits and . + ~ : - only.".into())
    }
}

/// A Proxmox tag: lowercase letters, digits and `_ - + .`, starting with a letter, digit or `_`.
pub fn tag(value: &str) -> Result<String, String> {
    let value = value.trim().to_ascii_lowercase();
    let ok = value.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'));
    if ok {
        Ok(value)
    } else {
        Err(format!(
            "“{value}” is not a valid tag (letters, digits, _ - + .)."
        ))
    }
}

/// A storage or bridge id as PVE names them (empty means "choose in the wizard").
fn pve_id(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty()
        || (value.len() <= 64
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        Ok(value.to_owned())
    } else {
        Err("Use letters, digits, - _ . only.".into())
    }
}

/// Validates every package of a list; errors are keyed `{prefix}.{index}.name|version`.
pub fn validate_packages(
    packages: &[Package],
    prefix: &str,
    errors: &mut FieldErrors,
) -> Vec<Package> {
    let mut seen = std::collections::HashSet::new();
    packages
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let name = errors.check(
                &format!("{prefix}.{i}.name"),
                package_name(&p.name, p.manager),
            )?;
            let version = errors.check(
                &format!("{prefix}.{i}.version"),
                package_version(p.version.as_deref().unwrap_or("")),
            )?;
            if !seen.insert((name.clone(), p.manager)) {
                errors.add(&format!("{prefix}.{i}.name"), "Listed twice.");
                return None;
            }
            Some(Package {
                name,
                manager: p.manager,
                version,
            })
        })
        .collect()
}

impl Template {
    /// Checks and normalises every field; error keys are field names, and
    /// `scripts.N.name`, `files.N.target_dir`, `packages.N.name` … for list items.
    pub fn validated(&self) -> Result<Template, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.check("name", crate::validation::required_text(&self.name, 100));
        e.check("description", max_len(&self.description, 2000));
        let os_template = e.check("os_template", os_template_name(&self.os_template));
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
        let storage = e.check("storage", pve_id(&self.storage));
        let bridge = e.check("bridge", pve_id(&self.bridge));
        let mut tags = Vec::new();
        for t in &self.tags {
            if let Some(t) = e.check("tags", tag(t))
                && !tags.contains(&t)
            {
                tags.push(t);
            }
        }
        let mut scripts = Vec::new();
        for (i, s) in self.scripts.iter().enumerate() {
            let name = e.check(&format!("scripts.{i}.name"), safe_file_name(&s.name, 100));
            if s.content.trim().is_empty() {
                e.add(&format!("scripts.{i}.content"), "The script is empty.");
            }
            if let Some(name) = name {
                if scripts.iter().any(|x: &Script| x.name == name) {
                    e.add(&format!("scripts.{i}.name"), "Two scripts have this name.");
                }
                scripts.push(Script { name, ..s.clone() });
            }
        }
        let mut files = Vec::new();
        for (i, f) in self.files.iter().enumerate() {
            let name = e.check(&format!("files.{i}.name"), safe_file_name(&f.name, 255));
            let dir = e.check(
                &format!("files.{i}.target_dir"),
                target_directory(&f.target_dir),
            );
            if let (Some(name), Some(target_dir)) = (name, dir) {
                let file = TemplateFile {
                    name,
                    target_dir,
                    ..f.clone()
                };
                if files
                    .iter()
                    .any(|x: &TemplateFile| x.target_path() == file.target_path())
                {
                    e.add(&format!("files.{i}.name"), "Two files go to this path.");
                }
                files.push(file);
            }
        }
        // Files are kept in one canonical order, by directory then name, as they are stored.
        files.sort_by(|a, b| (&a.target_dir, &a.name).cmp(&(&b.target_dir, &b.name)));
        let packages = validate_packages(&self.packages, "packages", &mut e);
        if !e.is_empty() {
            return Err(e);
        }
        Ok(Template {
            name: name.unwrap_or_default(),
            description: self.description.trim().to_owned(),
            os_template: os_template.unwrap_or_default(),
            storage: storage.unwrap_or_default(),
            bridge: bridge.unwrap_or_default(),
            tags,
            scripts,
            files,
            packages,
            ..self.clone()
        })
    }
}

impl Bucket {
    pub fn validated(&self) -> Result<Bucket, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.check("name", crate::validation::required_text(&self.name, 100));
        e.check("description", max_len(&self.description, 2000));
        let packages = validate_packages(&self.packages, "packages", &mut e);
        e.into_result(Bucket {
            name: name.unwrap_or_default(),
            description: self.description.trim().to_owned(),
            packages,
        })
    }
}

fn max_len(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        Err(format!("At most {max} characters."))
    } else {
        Ok(())
    }
}

/// An OS template name like `debian-12-standard` (a `vztmpl` file name prefix).
fn os_template_name(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("Required, e.g. debian-12-standard.".into());
    }
    if value.len() <= 200
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'))
    {
        Ok(value.to_owned())
    } else {
        Err("Use the template's file name, e.g. debian-12-standard.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        Template {
            name: "web".into(),
            scripts: vec![Script {
                name: "10-setup.sh".into(),
                description: String::new(),
                content: "echo hi".into(),
                enabled: true,
            }],
            files: vec![TemplateFile {
                name: "index.html".into(),
                target_dir: "/var//www/./html/".into(),
                policy: FilePolicy::Replace,
                content: "<h1>hi</h1>".into(),
            }],
            packages: vec![Package {
                name: "nginx".into(),
                manager: PackageManager::Apt,
                version: None,
            }],
            ..Template::default()
        }
    }

    #[test]
    fn valid_template_is_normalised() {
        let t = template().validated().unwrap();
        assert_eq!(t.files[0].target_dir, "/var/www/html");
        assert_eq!(t.files[0].target_path(), "/var/www/html/index.html");
    }

    #[test]
    fn each_bad_field_is_named() {
        type Spoil = fn(&mut Template);
        let cases: &[(&str, Spoil)] = &[
            ("name", |t| t.name = "  ".into()),
            ("cores", |t| t.cores = 0),
            ("memory_mib", |t| t.memory_mib = 8),
            ("disk_gib", |t| t.disk_gib = 0),
            ("os_template", |t| t.os_template = "debian 12; rm".into()),
            ("bridge", |t| t.bridge = "vmbr0 && x".into()),
            ("tags", |t| t.tags = vec!["bad tag".into()]),
            ("scripts.0.name", |t| {
                t.scripts[0].name = "../evil.sh".into()
            }),
            ("scripts.0.content", |t| t.scripts[0].content = " ".into()),
            ("files.0.name", |t| t.files[0].name = "a/b".into()),
            ("files.0.target_dir", |t| {
                t.files[0].target_dir = "/etc/../root".into()
            }),
            ("files.0.target_dir", |t| {
                t.files[0].target_dir = "etc".into()
            }),
            ("packages.0.name", |t| {
                t.packages[0].name = "nginx; curl x|sh".into()
            }),
            ("packages.0.version", |t| {
                t.packages[0].version = Some("1 && 2".into())
            }),
        ];
        for (field, spoil) in cases {
            let mut t = template();
            spoil(&mut t);
            let errors = t.validated().unwrap_err();
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
    }

    #[test]
    fn package_names_per_manager() {
        use PackageManager::*;
        for (name, manager, ok) in [
            ("nginx", Apt, true),
            ("libc6-dev", Apt, true),
            ("g++", Apt, true),
            ("Nginx", Apt, false),
            ("@scope/pkg", Npm, true),
            ("left-pad", Npm, true),
            ("@/x", Npm, false),
            ("_x", Npm, false),
            ("Django", Pip, true),
            ("requests_oauthlib", Pip, true),
            ("-x", Pip, false),
            ("a b", Pip, false),
            ("$(id)", Custom, false),
            ("mytool", Custom, true),
        ] {
            assert_eq!(package_name(name, manager).is_ok(), ok, "{manager} {name}");
        }
    }

    #[test]
    fn directories() {
        assert_eq!(target_directory("/").unwrap(), "/");
        assert_eq!(target_directory("/etc/nginx/").unwrap(), "/etc/nginx");
        assert!(target_directory("/etc/..").is_err());
        assert!(target_directory("relative/dir").is_err());
        assert!(target_directory("/etc/\nx").is_err());
    }

    #[test]
    fn duplicate_targets_and_packages_are_refused() {
        let mut t = template();
        t.files.push(t.files[0].clone());
        t.packages.push(t.packages[0].clone());
        let errors = t.validated().unwrap_err();
        assert!(errors.get("files.1.name").is_some());
        assert!(errors.get("packages.1.name").is_some());
    }
}
