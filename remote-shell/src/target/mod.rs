//! [`RemoteTarget`]: the operations deploy code needs from a container, whatever the transport.

mod any;
mod direct;
mod pct;

use std::future::Future;

use tokio::sync::mpsc;

use crate::command::Command;
use crate::error::RemoteError;
use crate::exec::{ExecOptions, ExitStatus, Output};
use crate::lines::OutputLine;
use crate::metadata::{DirEntry, FileStat};
use crate::path::RemotePath;

pub use any::AnyTarget;
pub use direct::DirectSsh;
pub use pct::PctViaNode;

/// A container to deploy into: over its own sshd ([`DirectSsh`]) or through `pct` on its
/// Proxmox node ([`PctViaNode`]). Semantics are the same for both; [`AnyTarget`] picks one
/// at run time.
pub trait RemoteTarget: Send + Sync {
    /// Who this is, for logs: `root@10.0.0.5:22`, `CT 105 via root@pve1:22`.
    fn describe(&self) -> String;

    /// Runs `cmd`, streaming its output lines to `lines`; see [`SshSession::exec`](crate::SshSession::exec).
    fn exec(
        &self,
        cmd: &Command,
        opts: &ExecOptions,
        lines: &mpsc::Sender<OutputLine>,
    ) -> impl Future<Output = Result<ExitStatus, RemoteError>> + Send;

    /// Runs `cmd` and returns its output; see [`SshSession::exec_capture`](crate::SshSession::exec_capture).
    fn exec_capture(
        &self,
        cmd: &Command,
        opts: &ExecOptions,
    ) -> impl Future<Output = Result<Output, RemoteError>> + Send;

    /// Replaces `path` atomically with `data` and permission bits `mode`, creating parent
    /// directories; see [`Sftp::upload`](crate::Sftp::upload).
    fn upload(
        &self,
        path: &RemotePath,
        data: &[u8],
        mode: u32,
    ) -> impl Future<Output = Result<(), RemoteError>> + Send;

    /// A whole file, at most `max_len` bytes.
    fn read_file(
        &self,
        path: &RemotePath,
        max_len: usize,
    ) -> impl Future<Output = Result<Vec<u8>, RemoteError>> + Send;

    /// Type, size and mode, following symbolic links; `None` if missing.
    fn stat(
        &self,
        path: &RemotePath,
    ) -> impl Future<Output = Result<Option<FileStat>, RemoteError>> + Send;

    /// Entries of a directory, sorted by name, without `.` and `..`.
    fn list_dir(
        &self,
        path: &RemotePath,
    ) -> impl Future<Output = Result<Vec<DirEntry>, RemoteError>> + Send;

    /// Removes a file; a missing one is not an error.
    fn remove(&self, path: &RemotePath) -> impl Future<Output = Result<(), RemoteError>> + Send;

    /// Renames `from` to `to`, replacing `to`.
    fn rename(
        &self,
        from: &RemotePath,
        to: &RemotePath,
    ) -> impl Future<Output = Result<(), RemoteError>> + Send;

    /// Whether `path` exists.
    fn exists(&self, path: &RemotePath) -> impl Future<Output = Result<bool, RemoteError>> + Send {
        async move { Ok(self.stat(path).await?.is_some()) }
    }
}
