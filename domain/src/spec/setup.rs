//! A container's setup — packages, scripts and files — taken from a template's current version,
//! and what changes between two setups (shown before an update run applies one).

use super::ContainerSpec;
use crate::run::SetupChange;
use crate::template::{Package, Script, TemplateDetail, TemplateFile};

/// The packages, scripts and files a container gets from a template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Setup {
    pub packages: Vec<Package>,
    pub scripts: Vec<Script>,
    pub files: Vec<TemplateFile>,
}

impl Setup {
    /// The template's packages then its buckets' (each name and manager once, first wins),
    /// its scripts and its files, as the wizard preselects them.
    pub fn of_template(detail: &TemplateDetail) -> Setup {
        let mut packages: Vec<Package> = Vec::new();
        let all = detail
            .template
            .packages
            .iter()
            .chain(detail.buckets.iter().flat_map(|b| b.bucket.packages.iter()));
        for package in all {
            let seen = packages
                .iter()
                .any(|p| p.name.trim() == package.name.trim() && p.manager == package.manager);
            if !seen {
                packages.push(package.clone());
            }
        }
        Setup {
            packages,
            scripts: detail.template.scripts.clone(),
            files: detail.template.files.clone(),
        }
    }

    /// The setup `spec` carries now.
    pub fn of_spec(spec: &ContainerSpec) -> Setup {
        Setup {
            packages: spec.packages.clone(),
            scripts: spec.scripts.clone(),
            files: spec.files.clone(),
        }
    }

    /// What applying `self` to a container set up with `current` adds, removes and changes:
    /// packages by name and manager (a new version is a change), scripts by name, files by
    /// their path in the container.
    pub fn changes_from(&self, current: &Setup) -> Vec<SetupChange> {
        let mut changes = Vec::new();
        let package_key = |p: &Package| format!("{} ({})", p.name.trim(), p.manager.as_str());
        diff(
            &mut changes,
            "package",
            &current.packages,
            &self.packages,
            package_key,
        );
        diff(
            &mut changes,
            "script",
            &current.scripts,
            &self.scripts,
            |s| s.name.clone(),
        );
        diff(
            &mut changes,
            "file",
            &current.files,
            &self.files,
            TemplateFile::target_path,
        );
        changes
    }
}

impl ContainerSpec {
    /// This spec with `setup` in place of its packages, scripts and files.
    pub fn with_setup(&self, setup: Setup) -> ContainerSpec {
        ContainerSpec {
            packages: setup.packages,
            scripts: setup.scripts,
            files: setup.files,
            ..self.clone()
        }
    }
}

/// Adds to `changes` the items of `after` not in `before` (added), of `before` not in `after`
/// (removed), and those in both that differ (changed), keyed by `key`, in `after`'s order then
/// `before`'s.
fn diff<T: PartialEq>(
    changes: &mut Vec<SetupChange>,
    area: &str,
    before: &[T],
    after: &[T],
    key: impl Fn(&T) -> String,
) {
    let change = |name: String, what: &str| SetupChange {
        area: area.to_owned(),
        name,
        change: what.to_owned(),
    };
    for item in after {
        let name = key(item);
        match before.iter().find(|b| key(b) == name) {
            None => changes.push(change(name, "added")),
            Some(old) if old != item => changes.push(change(name, "changed")),
            Some(_) => {}
        }
    }
    for item in before {
        let name = key(item);
        if !after.iter().any(|a| key(a) == name) {
            changes.push(change(name, "removed"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{FilePolicy, PackageManager};

    fn package(name: &str, version: Option<&str>) -> Package {
        Package {
            name: name.into(),
            manager: PackageManager::Apt,
            version: version.map(str::to_owned),
        }
    }

    fn script(name: &str, content: &str) -> Script {
        Script {
            name: name.into(),
            description: String::new(),
            content: content.into(),
            enabled: true,
        }
    }

    #[test]
    fn added_removed_and_changed_items_are_named() {
        let before = Setup {
            packages: vec![package("nginx", None), package("curl", None)],
            scripts: vec![script("10-a.sh", "echo a"), script("20-b.sh", "echo b")],
            files: vec![TemplateFile {
                name: "site.conf".into(),
                target_dir: "/etc/nginx".into(),
                policy: FilePolicy::Replace,
                content: "old".into(),
            }],
        };
        let mut after = before.clone();
        after.packages = vec![package("nginx", Some("1.22")), package("htop", None)];
        after.scripts[0].content = "echo A".into();
        after.files.clear();
        let changes: Vec<(String, String, String)> = after
            .changes_from(&before)
            .into_iter()
            .map(|c| (c.area, c.name, c.change))
            .collect();
        let want = |a: &str, n: &str, c: &str| (a.to_owned(), n.to_owned(), c.to_owned());
        assert_eq!(
            changes,
            vec![
                want("package", "nginx (apt)", "changed"),
                want("package", "htop (apt)", "added"),
                want("package", "curl (apt)", "removed"),
                want("script", "10-a.sh", "changed"),
                want("file", "/etc/nginx/site.conf", "removed"),
            ]
        );
        assert!(before.changes_from(&before).is_empty());
    }
}
