//! Phase 3, Deploy (35–60 %): connect, install config-manager, write the template's files
//! honouring their policy (`replace`, `default`, `backup`).

use std::time::Duration;

use domain::container::Phase;
use domain::template::{FilePolicy, TemplateFile, safe_file_name, target_directory};
use remote_shell::{AnyTarget, Command, ExecOptions, RemotePath, RemoteTarget};

use super::config_manager::{self as cm, EnvValues};
use super::failure::Failure;
use super::job::Job;

/// Limit for the small commands deploy runs (mkdir, systemctl enable …).
const HELPER_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest existing file read to compare it with a template file.
const COMPARE_LIMIT: usize = 8 << 20;

impl Job<'_> {
    pub(super) async fn deploy(&mut self) -> Result<(), Failure> {
        let (from, to) = Phase::Deploy.percent_range();
        self.step(Phase::Deploy, from, "Connecting to the container over SSH")
            .await?;
        let target = self.ensure_target().await?;
        self.step(Phase::Deploy, from + 7, "Installing config-manager")
            .await?;
        self.install_config_manager(&target).await?;
        if !self.spec.files.is_empty() {
            let message = format!("Writing {} template file(s)", self.spec.files.len());
            self.step(Phase::Deploy, to - 10, &message).await?;
            for file in self.spec.files.clone() {
                self.write_file(&target, &file).await?;
            }
        }
        Ok(())
    }

    async fn install_config_manager(&self, target: &AnyTarget) -> Result<(), Failure> {
        let what = "Installing config-manager";
        let dirs = Command::sh(r#"mkdir -p -- "$1" "$2" "$3" "$4" && chmod 0700 -- "$2" "$4""#)
            .args([
                cm::CONFIG_DIR,
                cm::CREDENTIALS_DIR,
                cm::LOG_DIR,
                cm::SCRIPTS_DIR,
            ]);
        helper(target, &dirs, what).await?;
        let id = self.id.to_string();
        let env = cm::config_env(&EnvValues {
            container_id: &id,
            vmid: self.vmid(),
            hostname: self.spec.hostname.as_str(),
            template: self.spec.template_name.as_deref().unwrap_or(""),
        });
        upload(target, cm::CONFIG_ENV, env.as_bytes(), 0o644, what).await?;
        upload(
            target,
            cm::SYNC_SCRIPT,
            cm::CONFIG_SYNC.as_bytes(),
            0o755,
            what,
        )
        .await?;
        upload(target, cm::UNIT_PATH, cm::UNIT.as_bytes(), 0o644, what).await?;
        helper(
            target,
            &Command::new("systemctl").arg("daemon-reload"),
            what,
        )
        .await?;
        helper(
            target,
            &Command::new("systemctl").args(["enable", cm::UNIT_NAME]),
            what,
        )
        .await?;
        self.log("config-manager installed and enabled (config-manager.service)")
            .await
    }

    /// Writes one template file; its name and directory are checked again here.
    async fn write_file(&self, target: &AnyTarget, file: &TemplateFile) -> Result<(), Failure> {
        let bad = |m: String| {
            Failure::failed(format!(
                "Template file \"{}\" cannot be written: {m}",
                file.name
            ))
        };
        let name = safe_file_name(&file.name, 255).map_err(bad)?;
        let dir = target_directory(&file.target_dir).map_err(bad)?;
        let path = RemotePath::new(&dir)
            .and_then(|d| d.join(&name))
            .map_err(|e| bad(e.to_string()))?;
        let what = format!("Writing {path}");
        let content = file.content.as_bytes();
        let existing = match target.stat(&path).await {
            Ok(stat) => stat,
            Err(e) => return Err(Failure::failed(format!("{what} failed: {e}"))),
        };
        if existing.is_some() {
            let same = match target.read_file(&path, COMPARE_LIMIT).await {
                Ok(current) => current == content,
                Err(_) => false,
            };
            if same {
                return self.log(&format!("{path} is already up to date")).await;
            }
        }
        match (file.policy, existing.is_some()) {
            (FilePolicy::Default, true) => {
                return self
                    .log(&format!("Kept the existing {path} (policy: default)"))
                    .await;
            }
            (FilePolicy::Backup, true) => {
                let backup = path
                    .parent()
                    .and_then(|p| p.join(&format!("{name}.bak")).ok())
                    .ok_or_else(|| bad("no directory for the backup".into()))?;
                let copy = Command::new("cp").args(["-p", "--", path.as_str(), backup.as_str()]);
                helper(target, &copy, &what).await?;
                self.log(&format!("Kept the previous {path} as {backup}"))
                    .await?;
            }
            _ => {}
        }
        upload(target, path.as_str(), content, 0o644, &what).await?;
        self.log(&format!("Wrote {path} (policy: {})", file.policy))
            .await
    }
}

/// Runs a small command that must succeed.
pub(super) async fn helper(target: &AnyTarget, cmd: &Command, what: &str) -> Result<(), Failure> {
    let result = target
        .exec_capture(cmd, &ExecOptions::with_timeout(HELPER_TIMEOUT))
        .await
        .and_then(|out| out.checked());
    result
        .map(drop)
        .map_err(|e| Failure::failed(format!("{what} failed: {e}")))
}

/// Uploads a file; `path` is checked once more.
pub(super) async fn upload(
    target: &AnyTarget,
    path: &str,
    data: &[u8],
    mode: u32,
    what: &str,
) -> Result<(), Failure> {
    let result = match RemotePath::new(path) {
        Ok(path) => target.upload(&path, data, mode).await,
        Err(e) => Err(e),
    };
    result.map_err(|e| Failure::failed(format!("{what} failed: {e}")))
}
