//! Turning the chosen packages into install commands, one group per package manager in the
//! order the managers first appear. Names and versions are checked again and passed as single
//! quoted arguments, never through a shell.

use domain::template::{Package, PackageManager, package_name, package_version};
use remote_shell::Command;

/// The helper a template provides for `custom` packages: `install-custom.sh NAME [VERSION]`.
pub const CUSTOM_INSTALLER: &str = "/etc/config-manager/install-custom.sh";

/// The commands installing one manager's packages.
#[derive(Debug)]
pub struct InstallGroup {
    pub manager: PackageManager,
    /// Package names, for the progress message.
    pub names: Vec<String>,
    pub commands: Vec<Command>,
}

/// The install groups for `packages`; an invalid name or version is an error message.
pub fn plan(packages: &[Package]) -> Result<Vec<InstallGroup>, String> {
    let mut managers: Vec<PackageManager> = Vec::new();
    for p in packages {
        if !managers.contains(&p.manager) {
            managers.push(p.manager);
        }
    }
    managers
        .into_iter()
        .map(|manager| {
            let mut specs = Vec::new();
            let mut names = Vec::new();
            for p in packages.iter().filter(|p| p.manager == manager) {
                let name = package_name(&p.name, manager)
                    .map_err(|m| format!("Package \"{}\": {m}", p.name))?;
                let version = package_version(p.version.as_deref().unwrap_or(""))
                    .map_err(|m| format!("Version of package \"{name}\": {m}"))?;
                names.push(name.clone());
                specs.push((name, version));
            }
            Ok(InstallGroup {
                manager,
                names,
                commands: commands(manager, &specs),
            })
        })
        .collect()
}

fn commands(manager: PackageManager, specs: &[(String, Option<String>)]) -> Vec<Command> {
    match manager {
        PackageManager::Apt => vec![
            Command::new("env").args(["DEBIAN_FRONTEND=noninteractive", "apt-get", "update"]),
            Command::new("env")
                .args(["DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y"])
                .args(specs.iter().map(|(n, v)| match v {
                    Some(v) => format!("{n}={v}"),
                    None => n.clone(),
                })),
        ],
        PackageManager::Npm => {
            vec![
                Command::new("npm")
                    .args(["install", "-g"])
                    .args(specs.iter().map(|(n, v)| match v {
                        Some(v) => format!("{n}@{v}"),
                        None => n.clone(),
                    })),
            ]
        }
        // Debian 12 and later refuse system-wide pip installs without this (PEP 668).
        PackageManager::Pip => vec![
            Command::new("env")
                .args(["PIP_BREAK_SYSTEM_PACKAGES=1", "pip3", "install"])
                .args(specs.iter().map(|(n, v)| match v {
                    Some(v) if v.starts_with(['<', '>', '=', '!', '~']) => format!("{n}{v}"),
                    Some(v) => format!("{n}=={v}"),
                    None => n.clone(),
                })),
        ],
        // Through `sh`, so the helper works when the template wrote it without the x bit.
        PackageManager::Custom => specs
            .iter()
            .map(|(n, v)| {
                Command::new("sh")
                    .arg(CUSTOM_INSTALLER)
                    .arg(n)
                    .args(v.clone())
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, manager: PackageManager, version: Option<&str>) -> Package {
        Package {
            name: name.into(),
            manager,
            version: version.map(Into::into),
        }
    }

    fn lines(group: &InstallGroup) -> Vec<String> {
        group
            .commands
            .iter()
            .map(|c| c.to_command_line().unwrap())
            .collect()
    }

    #[test]
    fn groups_by_manager_in_first_seen_order() {
        let groups = plan(&[
            pkg("httpie", PackageManager::Pip, None),
            pkg("nginx", PackageManager::Apt, None),
            pkg("black", PackageManager::Pip, Some("24.8.0")),
            pkg("git", PackageManager::Apt, Some("1:2.39")),
            pkg("left-pad", PackageManager::Npm, Some("1.3.0")),
            pkg("tool", PackageManager::Custom, Some("2")),
        ])
        .unwrap();
        let managers: Vec<_> = groups.iter().map(|g| g.manager).collect();
        assert_eq!(
            managers,
            [
                PackageManager::Pip,
                PackageManager::Apt,
                PackageManager::Npm,
                PackageManager::Custom
            ]
        );
        assert_eq!(
            lines(&groups[0]),
            ["'env' 'PIP_BREAK_SYSTEM_PACKAGES=1' 'pip3' 'install' 'httpie' 'black==24.8.0'"]
        );
        assert_eq!(
            lines(&groups[1]),
            [
                "'env' 'DEBIAN_FRONTEND=noninteractive' 'apt-get' 'update'",
                "'env' 'DEBIAN_FRONTEND=noninteractive' 'apt-get' 'install' '-y' 'nginx' 'git=1:2.39'"
            ]
        );
        assert_eq!(lines(&groups[2]), ["'npm' 'install' '-g' 'left-pad@1.3.0'"]);
        assert_eq!(
            lines(&groups[3]),
            ["'sh' '/etc/config-manager/install-custom.sh' 'tool' '2'"]
        );
        assert_eq!(groups[1].names, ["nginx", "git"]);
    }

    #[test]
    fn bad_names_are_refused_again() {
        let err = plan(&[pkg("curl; rm -rf /", PackageManager::Apt, None)]).unwrap_err();
        assert!(err.contains("curl; rm -rf /"), "{err}");
        assert!(plan(&[pkg("ok", PackageManager::Pip, Some("1 2"))]).is_err());
    }
}
