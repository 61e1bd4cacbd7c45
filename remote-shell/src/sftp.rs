//! [`Sftp`]: file operations over a session's SFTP channel, on checked paths only.

use russh::client::Handle;
use russh_sftp::client::RawSftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use tracing::Instrument;

use crate::connect::PinningHandler;
use crate::error::RemoteError;
use crate::metadata::{DirEntry, EntryKind, FileStat};
use crate::path::RemotePath;

/// Bytes per read or write request; every SFTP server accepts at least this much.
const CHUNK: usize = 32 * 1024;
const POSIX_RENAME: &str = "posix-rename@openssh.com";

/// The SFTP side of an [`SshSession`](crate::SshSession), from
/// [`SshSession::sftp`](crate::SshSession::sftp).
pub struct Sftp {
    raw: RawSftpSession,
    posix_rename: bool,
    host: String,
}

impl Sftp {
    pub(crate) async fn open(
        handle: &Handle<PinningHandler>,
        host: &str,
        port: u16,
    ) -> Result<Self, RemoteError> {
        let protocol = |e: russh::Error| RemoteError::Protocol {
            host: host.to_owned(),
            port,
            message: format!("cannot open SFTP: {e}"),
        };
        let channel = handle.channel_open_session().await.map_err(protocol)?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(protocol)?;
        let raw = RawSftpSession::new(channel.into_stream());
        let version = raw.init().await.map_err(|e| RemoteError::Sftp {
            op: "init",
            path: String::new(),
            message: e.to_string(),
        })?;
        let posix_rename = version
            .extensions
            .get(POSIX_RENAME)
            .is_some_and(|v| v == "1");
        Ok(Sftp {
            raw,
            posix_rename,
            host: host.to_owned(),
        })
    }

    /// Writes `data` to `path` with permission bits `mode`, creating missing parent
    /// directories (0755). The data goes to a hidden temporary file in the same directory,
    /// created 0600, which then replaces `path` in one rename: readers see the old file or
    /// the new one, never a partial one.
    pub async fn upload(
        &self,
        path: &RemotePath,
        data: &[u8],
        mode: u32,
    ) -> Result<(), RemoteError> {
        let span =
            tracing::info_span!("sftp.upload", host = %self.host, path = %path, bytes = data.len());
        async {
            let temp = path.temp_sibling()?;
            if let Some(parent) = path.parent() {
                self.create_dir_all(&parent).await?;
            }
            let written = match self.write_new(&temp, data, mode).await {
                Ok(()) => self.rename(&temp, path).await,
                Err(e) => Err(e),
            };
            if written.is_err() {
                let _ = self.raw.remove(temp.as_str()).await;
            }
            written
        }
        .instrument(span)
        .await
    }

    /// Reads a whole file; more than `max_len` bytes is [`RemoteError::TooLarge`].
    pub async fn read_file(
        &self,
        path: &RemotePath,
        max_len: usize,
    ) -> Result<Vec<u8>, RemoteError> {
        let handle = self
            .raw
            .open(path.as_str(), OpenFlags::READ, FileAttributes::empty())
            .await
            .map_err(|e| sftp_error("open", path, e))?
            .handle;
        let result = async {
            let mut contents = Vec::new();
            loop {
                match self
                    .raw
                    .read(handle.as_str(), contents.len() as u64, CHUNK as u32)
                    .await
                {
                    Ok(data) if data.data.is_empty() => break,
                    Ok(data) => contents.extend_from_slice(&data.data),
                    Err(SftpError::Status(s)) if s.status_code == StatusCode::Eof => break,
                    Err(e) => return Err(sftp_error("read", path, e)),
                }
                if contents.len() > max_len {
                    return Err(RemoteError::TooLarge {
                        path: path.to_string(),
                        limit: max_len,
                    });
                }
            }
            Ok(contents)
        }
        .await;
        let _ = self.raw.close(handle).await;
        result
    }

    /// Type, size and mode of `path`, following symbolic links; `None` if it does not exist.
    pub async fn stat(&self, path: &RemotePath) -> Result<Option<FileStat>, RemoteError> {
        match self.raw.stat(path.as_str()).await {
            Ok(attrs) => Ok(Some(FileStat::from_mode(
                attrs.attrs.permissions.unwrap_or(0),
                attrs.attrs.size.unwrap_or(0),
            ))),
            Err(e) => match sftp_error("stat", path, e) {
                RemoteError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Whether `path` exists.
    pub async fn exists(&self, path: &RemotePath) -> Result<bool, RemoteError> {
        Ok(self.stat(path).await?.is_some())
    }

    /// The entries of a directory, sorted by name, without `.` and `..`.
    pub async fn list_dir(&self, path: &RemotePath) -> Result<Vec<DirEntry>, RemoteError> {
        let handle = self
            .raw
            .opendir(path.as_str())
            .await
            .map_err(|e| sftp_error("opendir", path, e))?
            .handle;
        let mut entries = Vec::new();
        let result = loop {
            match self.raw.readdir(handle.as_str()).await {
                Ok(name) => entries.extend(
                    name.files
                        .into_iter()
                        .filter(|f| f.filename != "." && f.filename != "..")
                        .map(|f| DirEntry {
                            kind: EntryKind::from_mode(f.attrs.permissions.unwrap_or(0)),
                            name: f.filename,
                        }),
                ),
                Err(SftpError::Status(s)) if s.status_code == StatusCode::Eof => break Ok(()),
                Err(e) => break Err(sftp_error("readdir", path, e)),
            }
        };
        let _ = self.raw.close(handle).await;
        result?;
        entries.sort();
        Ok(entries)
    }

    /// Removes a file; one that does not exist is not an error.
    pub async fn remove(&self, path: &RemotePath) -> Result<(), RemoteError> {
        match self.raw.remove(path.as_str()).await {
            Ok(_) => Ok(()),
            Err(e) => match sftp_error("remove", path, e) {
                RemoteError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Renames `from` to `to`, replacing `to` if it exists. Atomic where the server supports
    /// `posix-rename@openssh.com` (OpenSSH does); elsewhere `to` is removed first.
    pub async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<(), RemoteError> {
        if self.posix_rename {
            let mut data = Vec::with_capacity(8 + from.as_str().len() + to.as_str().len());
            for path in [from, to] {
                data.extend_from_slice(&(path.as_str().len() as u32).to_be_bytes());
                data.extend_from_slice(path.as_str().as_bytes());
            }
            return match self.raw.extended(POSIX_RENAME, data).await {
                Ok(Packet::Status(s)) if s.status_code == StatusCode::Ok => Ok(()),
                Ok(Packet::Status(s)) => Err(sftp_error("rename", from, s.into())),
                Ok(_) => Err(sftp_error("rename", from, SftpError::UnexpectedPacket)),
                Err(e) => Err(sftp_error("rename", from, e)),
            };
        }
        if self.raw.rename(from.as_str(), to.as_str()).await.is_ok() {
            return Ok(());
        }
        self.remove(to).await?;
        self.raw
            .rename(from.as_str(), to.as_str())
            .await
            .map(drop)
            .map_err(|e| sftp_error("rename", from, e))
    }

    /// Creates `dir` and its missing parents (0755).
    pub async fn create_dir_all(&self, dir: &RemotePath) -> Result<(), RemoteError> {
        let mut missing = Vec::new();
        let mut next = Some(dir.clone());
        while let Some(current) = next {
            match self.stat(&current).await? {
                Some(stat) if stat.kind == EntryKind::Dir => break,
                Some(_) => {
                    return Err(RemoteError::Sftp {
                        op: "mkdir",
                        path: current.to_string(),
                        message: "exists and is not a directory".into(),
                    });
                }
                None => {
                    next = current.parent();
                    missing.push(current);
                }
            }
        }
        for dir in missing.into_iter().rev() {
            let attrs = FileAttributes {
                permissions: Some(0o755),
                ..FileAttributes::empty()
            };
            if let Err(e) = self.raw.mkdir(dir.as_str(), attrs).await {
                // Someone else may have created it meanwhile.
                if !matches!(self.stat(&dir).await?, Some(s) if s.kind == EntryKind::Dir) {
                    return Err(sftp_error("mkdir", &dir, e));
                }
            }
        }
        Ok(())
    }

    /// Creates `path` (which must not exist) with `data`, then sets its mode.
    async fn write_new(
        &self,
        path: &RemotePath,
        data: &[u8],
        mode: u32,
    ) -> Result<(), RemoteError> {
        let private = FileAttributes {
            permissions: Some(0o600),
            ..FileAttributes::empty()
        };
        let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUDE;
        let handle = self
            .raw
            .open(path.as_str(), flags, private)
            .await
            .map_err(|e| sftp_error("open", path, e))?
            .handle;
        let written = async {
            for (i, chunk) in data.chunks(CHUNK).enumerate() {
                self.raw
                    .write(handle.as_str(), (i * CHUNK) as u64, chunk.to_vec())
                    .await
                    .map_err(|e| sftp_error("write", path, e))?;
            }
            let mode = FileAttributes {
                permissions: Some(mode & 0o7777),
                ..FileAttributes::empty()
            };
            self.raw
                .fsetstat(handle.as_str(), mode)
                .await
                .map_err(|e| sftp_error("chmod", path, e))?;
            Ok(())
        }
        .await;
        let closed = self
            .raw
            .close(handle)
            .await
            .map_err(|e| sftp_error("close", path, e));
        written.and(closed.map(drop))
    }
}

fn sftp_error(op: &'static str, path: &RemotePath, e: SftpError) -> RemoteError {
    match e {
        SftpError::Status(s) if s.status_code == StatusCode::NoSuchFile => RemoteError::NotFound {
            path: path.to_string(),
        },
        SftpError::Status(s) if !s.error_message.is_empty() => RemoteError::Sftp {
            op,
            path: path.to_string(),
            message: s.error_message,
        },
        other => RemoteError::Sftp {
            op,
            path: path.to_string(),
            message: other.to_string(),
        },
    }
}
