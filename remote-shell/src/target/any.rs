//! [`AnyTarget`]: a transport chosen at run time.

use tokio::sync::mpsc;

use super::{DirectSsh, PctViaNode, RemoteTarget};
use crate::command::Command;
use crate::error::RemoteError;
use crate::exec::{ExecOptions, ExitStatus, Output};
use crate::lines::OutputLine;
use crate::metadata::{DirEntry, FileStat};
use crate::path::RemotePath;

/// Either transport, for code that decides at run time (direct when the container's sshd
/// answers, through the node otherwise).
#[derive(Clone, Debug)]
pub enum AnyTarget {
    Direct(DirectSsh),
    Pct(PctViaNode),
}

impl From<DirectSsh> for AnyTarget {
    fn from(target: DirectSsh) -> Self {
        AnyTarget::Direct(target)
    }
}

impl From<PctViaNode> for AnyTarget {
    fn from(target: PctViaNode) -> Self {
        AnyTarget::Pct(target)
    }
}

macro_rules! delegate {
    ($self:ident, $target:ident => $call:expr) => {
        match $self {
            AnyTarget::Direct($target) => $call.await,
            AnyTarget::Pct($target) => $call.await,
        }
    };
}

impl RemoteTarget for AnyTarget {
    fn describe(&self) -> String {
        match self {
            AnyTarget::Direct(t) => t.describe(),
            AnyTarget::Pct(t) => t.describe(),
        }
    }

    async fn exec(
        &self,
        cmd: &Command,
        opts: &ExecOptions,
        lines: &mpsc::Sender<OutputLine>,
    ) -> Result<ExitStatus, RemoteError> {
        delegate!(self, t => t.exec(cmd, opts, lines))
    }

    async fn exec_capture(&self, cmd: &Command, opts: &ExecOptions) -> Result<Output, RemoteError> {
        delegate!(self, t => t.exec_capture(cmd, opts))
    }

    async fn upload(&self, path: &RemotePath, data: &[u8], mode: u32) -> Result<(), RemoteError> {
        delegate!(self, t => t.upload(path, data, mode))
    }

    async fn read_file(&self, path: &RemotePath, max_len: usize) -> Result<Vec<u8>, RemoteError> {
        delegate!(self, t => t.read_file(path, max_len))
    }

    async fn stat(&self, path: &RemotePath) -> Result<Option<FileStat>, RemoteError> {
        delegate!(self, t => t.stat(path))
    }

    async fn list_dir(&self, path: &RemotePath) -> Result<Vec<DirEntry>, RemoteError> {
        delegate!(self, t => t.list_dir(path))
    }

    async fn remove(&self, path: &RemotePath) -> Result<(), RemoteError> {
        delegate!(self, t => t.remove(path))
    }

    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<(), RemoteError> {
        delegate!(self, t => t.rename(from, to))
    }
}
