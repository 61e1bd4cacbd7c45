//! Phase 4, Sync (60–90 %): run config-sync, install the packages, then run the enabled
//! scripts in order, each uploaded and executed with its output streamed. Each of these steps,
//! and each script, is checkpointed.

use domain::container::Phase;
use domain::event::ScriptProgress;
use domain::template::safe_file_name;
use remote_shell::{AnyTarget, Command, ExecOptions, RemotePath};

use super::config_manager as cm;
use super::deploy::upload;
use super::failure::Failure;
use super::job::Job;
use super::output::run_logged;
use super::packages;

/// Where the package step's progress starts, and where the scripts' starts.
const PACKAGES_AT: u8 = 62;
const SCRIPTS_AT: u8 = 70;

impl Job<'_> {
    pub(super) async fn sync(&mut self) -> Result<(), Failure> {
        let (from, to) = Phase::Sync.percent_range();
        if !self.checkpoint.config_synced {
            self.step(Phase::Sync, from, "Running config-sync").await?;
            let target = self.ensure_target().await?;
            let cmd = Command::new(cm::SYNC_SCRIPT);
            self.run_step(&target, &cmd, "config-sync").await?;
            self.checkpoint.config_synced = true;
            self.save_checkpoint().await?;
        }
        if !self.checkpoint.packages_done {
            let groups = packages::plan(&self.spec.packages).map_err(Failure::failed)?;
            let count = groups.len().max(1);
            for (i, group) in groups.iter().enumerate() {
                let percent = PACKAGES_AT + share(SCRIPTS_AT - PACKAGES_AT, i, count);
                let message = format!(
                    "Installing {} {} package(s): {}",
                    group.names.len(),
                    group.manager,
                    group.names.join(", ")
                );
                self.step(Phase::Sync, percent, &message).await?;
                let target = self.ensure_target().await?;
                let what = format!("Installing the {} packages", group.manager);
                for cmd in &group.commands {
                    self.run_step(&target, cmd, &what).await?;
                }
            }
            self.checkpoint.packages_done = true;
            self.save_checkpoint().await?;
        }
        let scripts: Vec<_> = self.spec.enabled_scripts().cloned().collect();
        let total = u32::try_from(scripts.len()).unwrap_or(u32::MAX);
        let first = usize::try_from(self.checkpoint.scripts_done).unwrap_or(usize::MAX);
        for (i, script) in scripts.iter().enumerate().skip(first) {
            let index = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let percent = SCRIPTS_AT + share(to - SCRIPTS_AT, i, scripts.len());
            self.sink
                .script_step(
                    Phase::Sync,
                    percent,
                    &format!("Running script {index} of {total}: {}", script.name),
                    ScriptProgress {
                        name: script.name.clone(),
                        index,
                        total,
                    },
                )
                .await?;
            let target = self.ensure_target().await?;
            let ran = self
                .run_script(&target, &script.name, &script.content)
                .await;
            // Also after a failed script: its output may hold a credential it wrote.
            let learned = self.learn_credentials(&target).await;
            ran?;
            learned?;
            self.checkpoint.scripts_done = index;
            self.save_checkpoint().await?;
        }
        Ok(())
    }

    /// Uploads a script (0700) and runs it; a non-zero exit fails the job naming the script.
    async fn run_script(
        &self,
        target: &AnyTarget,
        name: &str,
        content: &str,
    ) -> Result<(), Failure> {
        let safe = safe_file_name(name, 100)
            .map_err(|m| Failure::failed(format!("Script \"{name}\" cannot run: {m}")))?;
        let path = RemotePath::new(cm::SCRIPTS_DIR)
            .and_then(|d| d.join(&safe))
            .map_err(|e| Failure::failed(format!("Script \"{name}\" cannot run: {e}")))?;
        upload(
            target,
            path.as_str(),
            content.as_bytes(),
            0o700,
            &format!("Uploading script {name}"),
        )
        .await?;
        let cmd = if content.starts_with("#!") {
            Command::new("env").args(["DEBIAN_FRONTEND=noninteractive", path.as_str()])
        } else {
            Command::new("env").args(["DEBIAN_FRONTEND=noninteractive", "sh", path.as_str()])
        };
        let opts = ExecOptions::with_timeout(self.deps.settings.command_timeout);
        match run_logged(target, self.sink, &cmd, &opts).await? {
            Ok((status, _)) if status.success() => Ok(()),
            Ok((status, tail)) => Err(Failure::failed(format!(
                "Script {name} failed with exit code {}.{}",
                status.code(),
                tail.as_suffix()
            ))),
            Err(e) => Err(Failure::failed(format!("Script {name} could not run: {e}"))),
        }
    }

    /// Runs a command that must exit 0, its output stored as log events.
    async fn run_step(&self, target: &AnyTarget, cmd: &Command, what: &str) -> Result<(), Failure> {
        let opts = ExecOptions::with_timeout(self.deps.settings.command_timeout);
        match run_logged(target, self.sink, cmd, &opts).await? {
            Ok((status, _)) if status.success() => Ok(()),
            Ok((status, tail)) => Err(Failure::failed(format!(
                "{what} failed with exit code {}{}.{}",
                status.code(),
                hint(status.code()),
                tail.as_suffix()
            ))),
            Err(e) => Err(Failure::failed(format!("{what} failed: {e}"))),
        }
    }
}

/// `span * i / n`, for spreading progress over `n` steps.
fn share(span: u8, i: usize, n: usize) -> u8 {
    u8::try_from(usize::from(span) * i / n.max(1)).unwrap_or(span)
}

fn hint(code: u32) -> &'static str {
    match code {
        127 => " (command not found: is the package manager installed in the container?)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn progress_is_spread_evenly() {
        let spread: Vec<u8> = (0..4).map(|i| share(20, i, 4)).collect();
        assert_eq!(spread, [0, 5, 10, 15]);
        assert_eq!(share(8, 0, 0), 0);
    }
}
