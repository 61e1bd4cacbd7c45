//! [`PctViaNode`]: a container reached through `pct` on its Proxmox node, for when its own
//! sshd cannot be reached.

use std::time::Duration;

use tokio::sync::mpsc;
use tracing::Instrument;

use super::RemoteTarget;
use crate::command::Command;
use crate::error::RemoteError;
use crate::exec::{ExecOptions, ExitStatus, Output};
use crate::lines::OutputLine;
use crate::metadata::{DirEntry, EntryKind, FileStat};
use crate::path::RemotePath;
use crate::session::SshSession;

/// Exit code the helper scripts below use for "no such file".
const MISSING: u32 = 66;

/// Time allowed for the small helper commands (mkdir, mv, stat, …).
const HELPER_TIMEOUT: Duration = Duration::from_secs(120);

/// A container reached through its node: commands run as `pct exec VMID -- sh -c 'LINE'`,
/// files go to a temporary file on the node over SFTP, then `pct push` into the container.
#[derive(Clone, Debug)]
pub struct PctViaNode {
    node: SshSession,
    vmid: u32,
    staging_dir: RemotePath,
}

impl PctViaNode {
    /// Container `vmid` on the node `node` is connected to; uploads are staged in `/tmp`.
    pub fn new(node: SshSession, vmid: u32) -> Self {
        PctViaNode {
            node,
            vmid,
            staging_dir: RemotePath::new("/tmp").expect("a valid path"),
        }
    }

    /// Stages uploads in `dir` on the node instead of `/tmp`.
    pub fn with_staging_dir(mut self, dir: RemotePath) -> Self {
        self.staging_dir = dir;
        self
    }

    /// The container's id.
    pub fn vmid(&self) -> u32 {
        self.vmid
    }

    /// The connection to the node.
    pub fn node(&self) -> &SshSession {
        &self.node
    }

    /// `pct exec VMID -- sh -c LINE`, where LINE is `cmd` with every word quoted; the node's
    /// shell removes one layer of quoting and the container's `sh` the other.
    fn wrap(&self, cmd: &Command) -> Result<Command, RemoteError> {
        Ok(Command::new("pct")
            .arg("exec")
            .arg(self.vmid.to_string())
            .arg("--")
            .arg("sh")
            .arg("-c")
            .arg(cmd.to_command_line()?))
    }

    /// Runs a helper in the container and returns its output, whatever its status.
    async fn helper(&self, cmd: Command, limit: usize) -> Result<Output, RemoteError> {
        let opts = ExecOptions {
            timeout: HELPER_TIMEOUT,
            output_limit: limit,
        };
        self.exec_capture(&cmd, &opts).await
    }

    /// Runs a helper in the container that must succeed.
    async fn checked_helper(&self, cmd: Command) -> Result<(), RemoteError> {
        self.helper(cmd, 64 * 1024).await?.checked().map(drop)
    }

    /// Uploads `data` to the node, then pushes it into the container at `path`.
    async fn push(&self, path: &RemotePath, data: &[u8], mode: u32) -> Result<(), RemoteError> {
        let in_container = path.temp_sibling()?;
        let staged = self
            .staging_dir
            .join(&format!("infrahaus-push-{:016x}", rand::random::<u64>()))?;
        let sftp = self.node.sftp().await?;
        sftp.upload(&staged, data, 0o600).await?;
        let pushed = async {
            if let Some(parent) = path.parent() {
                self.checked_helper(Command::new("mkdir").args(["-p", "--", parent.as_str()]))
                    .await?;
            }
            let push = Command::new("pct")
                .arg("push")
                .arg(self.vmid.to_string())
                .arg(staged.as_str())
                .arg(in_container.as_str())
                .arg("--perms")
                .arg(format!("{:04o}", mode & 0o7777));
            let opts = ExecOptions::with_timeout(HELPER_TIMEOUT);
            self.node
                .exec_capture_as(&push, "pct", &opts)
                .await?
                .checked()?;
            let moved = self
                .checked_helper(Command::new("mv").args([
                    "-f",
                    "--",
                    in_container.as_str(),
                    path.as_str(),
                ]))
                .await;
            if moved.is_err() {
                let _ = self.remove(&in_container).await;
            }
            moved
        }
        .await;
        let _ = sftp.remove(&staged).await;
        pushed
    }
}

impl RemoteTarget for PctViaNode {
    fn describe(&self) -> String {
        format!(
            "CT {} via {}@{}:{}",
            self.vmid,
            self.node.user(),
            self.node.host(),
            self.node.port()
        )
    }

    async fn exec(
        &self,
        cmd: &Command,
        opts: &ExecOptions,
        lines: &mpsc::Sender<OutputLine>,
    ) -> Result<ExitStatus, RemoteError> {
        let span = tracing::info_span!("pct.exec", vmid = self.vmid);
        self.node
            .exec_as(&self.wrap(cmd)?, cmd.program(), opts, lines)
            .instrument(span)
            .await
    }

    async fn exec_capture(&self, cmd: &Command, opts: &ExecOptions) -> Result<Output, RemoteError> {
        let span = tracing::info_span!("pct.exec", vmid = self.vmid);
        self.node
            .exec_capture_as(&self.wrap(cmd)?, cmd.program(), opts)
            .instrument(span)
            .await
    }

    async fn upload(&self, path: &RemotePath, data: &[u8], mode: u32) -> Result<(), RemoteError> {
        let span =
            tracing::info_span!("pct.upload", vmid = self.vmid, path = %path, bytes = data.len());
        self.push(path, data, mode).instrument(span).await
    }

    async fn read_file(&self, path: &RemotePath, max_len: usize) -> Result<Vec<u8>, RemoteError> {
        let cat = Command::sh(r#"[ -e "$1" ] || exit 66; exec cat -- "$1""#).arg(path.as_str());
        let out = self.helper(cat, max_len).await?;
        if out.status.code() == MISSING {
            return Err(RemoteError::NotFound {
                path: path.to_string(),
            });
        }
        let out = out.checked()?;
        if out.stdout_truncated {
            return Err(RemoteError::TooLarge {
                path: path.to_string(),
                limit: max_len,
            });
        }
        Ok(out.stdout)
    }

    async fn stat(&self, path: &RemotePath) -> Result<Option<FileStat>, RemoteError> {
        let stat = Command::sh(r#"[ -e "$1" ] || exit 66; exec stat -L -c '%f %s' -- "$1""#)
            .arg(path.as_str());
        let out = self.helper(stat, 4096).await?;
        if out.status.code() == MISSING {
            return Ok(None);
        }
        let out = out.checked()?;
        let text = out.stdout_lossy();
        let parsed = text.split_once(' ').and_then(|(mode, size)| {
            Some(FileStat::from_mode(
                u32::from_str_radix(mode.trim(), 16).ok()?,
                size.trim().parse().ok()?,
            ))
        });
        parsed.map(Some).ok_or_else(|| RemoteError::CommandFailed {
            program: "stat".into(),
            code: 0,
            stderr: format!("unexpected output {:?}", text.trim()),
        })
    }

    async fn list_dir(&self, path: &RemotePath) -> Result<Vec<DirEntry>, RemoteError> {
        // One `KIND NAME` record per entry, NUL-terminated, so any file name survives.
        const SCRIPT: &str = r#"[ -e "$1" ] || exit 66
cd -- "$1" || exit 1
for f in * .*; do
  case $f in .|..) continue ;; esac
  if [ -L "$f" ]; then t=l; elif [ -d "$f" ]; then t=d; elif [ -f "$f" ]; then t=f
  elif [ -e "$f" ]; then t=o; else continue; fi
  printf '%s %s\000' "$t" "$f"
done"#;
        let out = self
            .helper(Command::sh(SCRIPT).arg(path.as_str()), 16 << 20)
            .await?;
        if out.status.code() == MISSING {
            return Err(RemoteError::NotFound {
                path: path.to_string(),
            });
        }
        let out = out.checked()?;
        let mut entries: Vec<DirEntry> = out
            .stdout
            .split(|&b| b == 0)
            .filter_map(|record| {
                let record = String::from_utf8_lossy(record);
                let (kind, name) = record.split_once(' ')?;
                let kind = match kind {
                    "f" => EntryKind::File,
                    "d" => EntryKind::Dir,
                    "l" => EntryKind::Symlink,
                    _ => EntryKind::Other,
                };
                Some(DirEntry {
                    name: name.to_owned(),
                    kind,
                })
            })
            .collect();
        entries.sort();
        Ok(entries)
    }

    async fn remove(&self, path: &RemotePath) -> Result<(), RemoteError> {
        self.checked_helper(Command::new("rm").args(["-f", "--", path.as_str()]))
            .await
    }

    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<(), RemoteError> {
        self.checked_helper(Command::new("mv").args(["-f", "--", from.as_str(), to.as_str()]))
            .await
    }
}
