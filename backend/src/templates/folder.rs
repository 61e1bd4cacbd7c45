//! Reads one template folder into a [`Template`], reporting every problem with its file and
//! line. Nothing in the folder is executed.

use super::Issue;
use super::conf::{self, Conf};
use domain::template::{
    FilePolicy, Package, PackageManager, Script, Template, TemplateFile, TemplateSource,
};
use std::path::Path;

/// Reads `dir` (a folder holding `template.conf`). `Err` carries the problems that make the
/// template unusable; a usable template may still come with warnings in the second field.
pub fn read(dir: &Path) -> Result<(Template, Vec<Issue>), Vec<Issue>> {
    let mut issues = Vec::new();
    let conf_path = dir.join("template.conf");
    let text = match std::fs::read_to_string(&conf_path) {
        Ok(text) => text,
        Err(e) => return Err(vec![issue(&conf_path, None, format!("cannot read: {e}"))]),
    };
    let conf = match conf::parse(&text) {
        Ok(conf) => conf,
        Err(errors) => {
            return Err(errors
                .into_iter()
                .map(|e| issue(&conf_path, Some(e.line), e.message))
                .collect());
        }
    };
    let folder_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut template = Template {
        name: conf
            .get("TEMPLATE_APP")
            .map(|(v, _)| v.to_owned())
            .unwrap_or(folder_name),
        description: text_value(&conf, "TEMPLATE_DESCRIPTION"),
        source: TemplateSource::Filesystem,
        version: text_value(&conf, "TEMPLATE_VERSION"),
        os_template: conf
            .get("TEMPLATE_OS")
            .map(|(v, _)| v.to_owned())
            .unwrap_or_else(|| "debian-12-standard".into()),
        storage: text_value(&conf, "TEMPLATE_STORAGE"),
        bridge: text_value(&conf, "TEMPLATE_BRIDGE"),
        tags: text_value(&conf, "TEMPLATE_TAGS")
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        ..Template::default()
    };
    let mut bad = Vec::new();
    let mut number = |key: &str, target: &mut u32, strip: &[&str]| {
        if let Some((value, line)) = conf.get(key) {
            let mut v = value.trim();
            for suffix in strip {
                v = v.strip_suffix(suffix).unwrap_or(v);
            }
            match v.parse::<u32>() {
                Ok(n) => *target = n,
                Err(_) => bad.push(issue(
                    &conf_path,
                    Some(line),
                    format!("{key} must be a whole number, got {value:?}"),
                )),
            }
        }
    };
    number("TEMPLATE_CPU", &mut template.cores, &[]);
    number(
        "TEMPLATE_RAM",
        &mut template.memory_mib,
        &["M", "MB", "MiB"],
    );
    number("TEMPLATE_SWAP", &mut template.swap_mib, &["M", "MB", "MiB"]);
    number("TEMPLATE_DISK", &mut template.disk_gib, &["G", "GB", "GiB"]);
    let mut flag = |key: &str, target: &mut bool| {
        if let Some((value, line)) = conf.get(key) {
            match value.trim() {
                "1" => *target = true,
                "0" => *target = false,
                other => bad.push(issue(
                    &conf_path,
                    Some(line),
                    format!("{key} must be 0 or 1, got {other:?}"),
                )),
            }
        }
    };
    flag("TEMPLATE_UNPRIVILEGED", &mut template.unprivileged);
    flag("TEMPLATE_NESTING", &mut template.nesting);
    flag("TEMPLATE_KEYCTL", &mut template.keyctl);
    flag("TEMPLATE_FUSE", &mut template.fuse);

    let configs = dir.join("container-configs");
    template.scripts = read_scripts(&configs.join("scripts"), &mut bad);
    template.files = read_files(&configs.join("files"), &mut bad);
    template.packages = read_packages(&configs.join("packages"), &mut bad, &mut issues);

    if !bad.is_empty() {
        return Err(bad);
    }
    match template.validated() {
        Ok(valid) => Ok((valid, issues)),
        Err(errors) => Err(errors
            .0
            .into_iter()
            .map(|(field, message)| issue(&conf_path, None, format!("{field}: {message}")))
            .collect()),
    }
}

fn text_value(conf: &Conf, key: &str) -> String {
    conf.get(key)
        .map(|(v, _)| v.trim().to_owned())
        .unwrap_or_default()
}

fn issue(path: &Path, line: Option<u32>, message: impl Into<String>) -> Issue {
    Issue {
        path: path.display().to_string(),
        line,
        message: message.into(),
    }
}

/// Entries of a folder sorted by name; a missing folder is empty.
fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `NN-name.sh`, ordered by NN; the first `# ` comment after the shebang is the description.
fn read_scripts(dir: &Path, bad: &mut Vec<Issue>) -> Vec<Script> {
    let mut numbered = Vec::new();
    for path in entries(dir) {
        let name = file_name(&path);
        let order = name
            .split_once('-')
            .filter(|(n, rest)| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && rest.ends_with(".sh")
            })
            .and_then(|(n, _)| n.parse::<u32>().ok());
        let Some(order) = order else {
            bad.push(issue(&path, None, "script names must look like NN-name.sh"));
            continue;
        };
        match std::fs::read_to_string(&path) {
            Ok(content) => {
                let description = content
                    .lines()
                    .skip_while(|l| l.starts_with("#!"))
                    .find_map(|l| l.strip_prefix("# "))
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                numbered.push((
                    order,
                    Script {
                        name,
                        description,
                        content,
                        enabled: true,
                    },
                ));
            }
            Err(e) => bad.push(issue(&path, None, format!("cannot read: {e}"))),
        }
    }
    numbered.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    numbered.into_iter().map(|(_, s)| s).collect()
}

/// `NAME` with `NAME.path` (target directory) and `NAME.policy` (default `replace`).
fn read_files(dir: &Path, bad: &mut Vec<Issue>) -> Vec<TemplateFile> {
    let mut files = Vec::new();
    for path in entries(dir) {
        let name = file_name(&path);
        if name.ends_with(".path") || name.ends_with(".policy") {
            continue;
        }
        let path_file = dir.join(format!("{name}.path"));
        let target_dir = match std::fs::read_to_string(&path_file) {
            Ok(text) => first_line(&text),
            Err(_) => {
                bad.push(issue(
                    &path_file,
                    None,
                    "missing: every file needs NAME.path with its target directory",
                ));
                continue;
            }
        };
        let policy_file = dir.join(format!("{name}.policy"));
        let policy = match std::fs::read_to_string(&policy_file) {
            Ok(text) => match first_line(&text).parse::<FilePolicy>() {
                Ok(p) => p,
                Err(_) => {
                    bad.push(issue(
                        &policy_file,
                        Some(1),
                        "policy must be replace, default or backup",
                    ));
                    continue;
                }
            },
            Err(_) => FilePolicy::Replace,
        };
        match std::fs::read_to_string(&path) {
            Ok(content) => files.push(TemplateFile {
                name,
                target_dir,
                policy,
                content,
            }),
            Err(e) => bad.push(issue(&path, None, format!("cannot read as text: {e}"))),
        }
    }
    files
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("")
        .to_owned()
}

/// `BUCKET.apt|npm|pip|custom`: one package per line, `#` comments; a version may follow as
/// `name=1.2` (apt), `name==1.2` (pip) or `name@1.2` (npm).
fn read_packages(dir: &Path, bad: &mut Vec<Issue>, warnings: &mut Vec<Issue>) -> Vec<Package> {
    let mut packages = Vec::new();
    for path in entries(dir) {
        let manager = match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::parse::<PackageManager>)
        {
            Some(Ok(m)) => m,
            _ => {
                warnings.push(issue(
                    &path,
                    None,
                    "ignored: package lists end in .apt, .npm, .pip or .custom",
                ));
                continue;
            }
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                bad.push(issue(&path, None, format!("cannot read: {e}")));
                continue;
            }
        };
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (name, version) = split_version(line, manager);
            let line_no = u32::try_from(index + 1).ok();
            match (
                domain::template::package_name(name, manager),
                domain::template::package_version(version),
            ) {
                (Ok(name), Ok(version)) => {
                    let package = Package {
                        name,
                        manager,
                        version,
                    };
                    if !packages.contains(&package) {
                        packages.push(package);
                    }
                }
                (Err(m), _) | (_, Err(m)) => bad.push(issue(&path, line_no, m)),
            }
        }
    }
    packages
}

fn split_version(line: &str, manager: PackageManager) -> (&str, &str) {
    let split = match manager {
        PackageManager::Pip => line.split_once("=="),
        PackageManager::Npm => line
            .get(1..)
            .and_then(|rest| rest.split_once('@'))
            .map(|(n, v)| (&line[..n.len() + 1], v)),
        PackageManager::Apt | PackageManager::Custom => line.split_once('='),
    };
    split.unwrap_or((line, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template folder named `web` holding `files`, inside a temporary directory that is
    /// removed when the returned guard drops.
    fn folder(files: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("web");
        for (path, content) in files {
            let full = dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
        (root, dir)
    }

    const CONF: &str = "TEMPLATE_APP=\"web\"\nTEMPLATE_CPU=\"${TEMPLATE_CPU:-2}\"\nTEMPLATE_RAM=1024\nTEMPLATE_DISK=8G\nTEMPLATE_TAGS=\"web;nginx\"\nTEMPLATE_NESTING=1\n";

    #[test]
    fn a_complete_folder() {
        let (_root, dir) = folder(&[
            ("template.conf", CONF),
            (
                "container-configs/scripts/20-second.sh",
                "#!/bin/sh\n# Second step\necho 2\n",
            ),
            (
                "container-configs/scripts/10-first.sh",
                "#!/bin/sh\necho 1\n",
            ),
            ("container-configs/scripts/3-early.sh", "echo 0\n"),
            ("container-configs/files/index.html", "<h1>hi</h1>"),
            (
                "container-configs/files/index.html.path",
                "/var/www/html/\n",
            ),
            ("container-configs/files/index.html.policy", "backup\n"),
            (
                "container-configs/packages/base.apt",
                "# web\nnginx\ncurl=7.88.1-10\n",
            ),
            ("container-configs/packages/tools.pip", "requests==2.31.0\n"),
            ("container-configs/packages/tools.npm", "@scope/cli@1.2.3\n"),
        ]);
        let (t, warnings) = read(&dir).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            (
                t.name.as_str(),
                t.cores,
                t.memory_mib,
                t.disk_gib,
                t.nesting
            ),
            ("web", 2, 1024, 8, true)
        );
        assert_eq!(t.tags, ["web", "nginx"]);
        let names: Vec<&str> = t.scripts.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["3-early.sh", "10-first.sh", "20-second.sh"]);
        assert_eq!(t.scripts[2].description, "Second step");
        assert_eq!(t.files[0].target_path(), "/var/www/html/index.html");
        assert_eq!(t.files[0].policy, FilePolicy::Backup);
        let packages: Vec<(String, Option<String>)> = t
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        assert_eq!(
            packages,
            [
                ("nginx".into(), None),
                ("curl".into(), Some("7.88.1-10".into())),
                ("@scope/cli".into(), Some("1.2.3".into())),
                ("requests".into(), Some("2.31.0".into())),
            ]
        );
    }

    #[test]
    fn broken_folders_name_the_file_and_line() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Option<u32>);
        let cases: &[Case] = &[
            (
                &[("template.conf", "TEMPLATE_APP=web\nTEMPLATE_CPU=$(nproc)\n")],
                "template.conf",
                Some(2),
            ),
            (
                &[("template.conf", "TEMPLATE_CPU=two\n")],
                "template.conf",
                Some(1),
            ),
            (
                &[("template.conf", "TEMPLATE_FUSE=yes\n")],
                "template.conf",
                Some(1),
            ),
            (
                &[
                    ("template.conf", CONF),
                    ("container-configs/scripts/setup.sh", "x"),
                ],
                "setup.sh",
                None,
            ),
            (
                &[
                    ("template.conf", CONF),
                    ("container-configs/files/a.conf", "x"),
                ],
                "a.conf.path",
                None,
            ),
            (
                &[
                    ("template.conf", CONF),
                    ("container-configs/files/a.conf", "x"),
                    ("container-configs/files/a.conf.path", "/etc/../root"),
                ],
                "template.conf",
                None,
            ),
            (
                &[
                    ("template.conf", CONF),
                    ("container-configs/packages/b.apt", "ok\nbad name;rm\n"),
                ],
                "b.apt",
                Some(2),
            ),
        ];
        for (files, path_end, line) in cases {
            let (_root, dir) = folder(files);
            let errors = read(&dir).unwrap_err();
            assert!(
                errors
                    .iter()
                    .any(|e| e.path.ends_with(path_end) && e.line == *line),
                "{path_end}:{line:?} not in {errors:?}"
            );
        }
    }
}
