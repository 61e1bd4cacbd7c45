//! [`DirectSsh`]: a container reached over its own sshd.

use tokio::sync::mpsc;

use super::RemoteTarget;
use crate::command::Command;
use crate::error::RemoteError;
use crate::exec::{ExecOptions, ExitStatus, Output};
use crate::lines::OutputLine;
use crate::metadata::{DirEntry, FileStat};
use crate::path::RemotePath;
use crate::session::SshSession;

/// A container reached over SSH to itself: commands on the session, files over its SFTP.
#[derive(Clone, Debug)]
pub struct DirectSsh {
    session: SshSession,
}

impl DirectSsh {
    /// Deploys over `session`, a connection to the container itself.
    pub fn new(session: SshSession) -> Self {
        DirectSsh { session }
    }

    /// The underlying connection.
    pub fn session(&self) -> &SshSession {
        &self.session
    }
}

impl RemoteTarget for DirectSsh {
    fn describe(&self) -> String {
        format!(
            "{}@{}:{}",
            self.session.user(),
            self.session.host(),
            self.session.port()
        )
    }

    async fn exec(
        &self,
        cmd: &Command,
        opts: &ExecOptions,
        lines: &mpsc::Sender<OutputLine>,
    ) -> Result<ExitStatus, RemoteError> {
        self.session.exec(cmd, opts, lines).await
    }

    async fn exec_capture(&self, cmd: &Command, opts: &ExecOptions) -> Result<Output, RemoteError> {
        self.session.exec_capture(cmd, opts).await
    }

    async fn upload(&self, path: &RemotePath, data: &[u8], mode: u32) -> Result<(), RemoteError> {
        self.session.sftp().await?.upload(path, data, mode).await
    }

    async fn read_file(&self, path: &RemotePath, max_len: usize) -> Result<Vec<u8>, RemoteError> {
        self.session.sftp().await?.read_file(path, max_len).await
    }

    async fn stat(&self, path: &RemotePath) -> Result<Option<FileStat>, RemoteError> {
        self.session.sftp().await?.stat(path).await
    }

    async fn list_dir(&self, path: &RemotePath) -> Result<Vec<DirEntry>, RemoteError> {
        self.session.sftp().await?.list_dir(path).await
    }

    async fn remove(&self, path: &RemotePath) -> Result<(), RemoteError> {
        self.session.sftp().await?.remove(path).await
    }

    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<(), RemoteError> {
        self.session.sftp().await?.rename(from, to).await
    }
}
