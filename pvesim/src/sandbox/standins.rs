//! Small stand-ins for tools a Debian container has and the sandbox lacks (or that would act
//! on the host): shell scripts written into the container's `/usr/local/sbin`, which comes
//! first on the sandbox's PATH.

use std::path::Path;

/// (installed name, script)
const STANDINS: &[(&str, &str)] = &[
    ("systemctl", include_str!("standins/systemctl.sh")),
    ("apt-get", include_str!("standins/apt-get.sh")),
    ("apt", include_str!("standins/apt-get.sh")),
    ("dpkg-query", include_str!("standins/dpkg-query.sh")),
    ("dpkg", include_str!("standins/dpkg-query.sh")),
    ("npm", include_str!("standins/npm.sh")),
    ("pip", include_str!("standins/pip.sh")),
    ("pip3", include_str!("standins/pip.sh")),
    ("ss", include_str!("standins/ss.sh")),
    ("hostname", include_str!("standins/hostname.sh")),
    ("service", include_str!("standins/service.sh")),
    ("journalctl", include_str!("standins/journalctl.sh")),
];

/// Writes (or refreshes) the stand-ins into `root/usr/local/sbin`.
pub fn install(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = root.join("usr/local/sbin");
    std::fs::create_dir_all(&dir)?;
    for (name, script) in STANDINS {
        let path = dir.join(name);
        std::fs::write(&path, script)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}
