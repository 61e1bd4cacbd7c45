//! The SFTP subsystem, serving files of a sandbox root through [`Vfs`].

use std::collections::HashMap;
use std::io::SeekFrom;
use std::os::unix::fs::PermissionsExt;

use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::vfs::Vfs;

enum OpenHandle {
    File(tokio::fs::File),
    Dir { entries: Vec<File>, sent: bool },
}

/// One SFTP session.
pub struct SftpSession {
    vfs: Vfs,
    handles: HashMap<String, OpenHandle>,
    next_handle: u64,
}

impl SftpSession {
    pub fn new(vfs: Vfs) -> Self {
        Self {
            vfs,
            handles: HashMap::new(),
            next_handle: 1,
        }
    }

    fn add(&mut self, handle: OpenHandle) -> String {
        let id = format!("h{}", self.next_handle);
        self.next_handle += 1;
        self.handles.insert(id.clone(), handle);
        id
    }
}

fn io_err(e: std::io::Error) -> StatusReply {
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => StatusCode::NoSuchFile,
        std::io::ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    };
    code.with_message(e.to_string())
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

fn attrs_of(meta: &std::fs::Metadata) -> FileAttributes {
    let mut attrs = FileAttributes::from(meta);
    attrs.user = Some("root".into());
    attrs.group = Some("root".into());
    attrs
}

impl russh_sftp::server::Handler for SftpSession {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.into()
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let resolved = self.vfs.resolve(&path, true).map_err(io_err)?;
        Ok(Name {
            id,
            files: vec![File::dummy(resolved.virt)],
        })
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let writing = pflags.intersects(
            OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE | OpenFlags::TRUNCATE,
        );
        let mut resolved = self.vfs.resolve(&filename, true).map_err(io_err)?;
        if writing {
            resolved = resolved.require_writable().map_err(io_err)?;
        }
        let mut options = tokio::fs::OpenOptions::new();
        options
            .read(pflags.contains(OpenFlags::READ) || !writing)
            .write(pflags.contains(OpenFlags::WRITE))
            .append(pflags.contains(OpenFlags::APPEND))
            .truncate(pflags.contains(OpenFlags::TRUNCATE))
            .mode(attrs.permissions.map_or(0o644, |p| p & 0o7777));
        if pflags.contains(OpenFlags::CREATE) {
            if pflags.contains(OpenFlags::EXCLUDE) {
                options.create_new(true);
            } else {
                options.create(true);
            }
        }
        let file = options.open(&resolved.host).await.map_err(io_err)?;
        Ok(Handle {
            id,
            handle: self.add(OpenHandle::File(file)),
        })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        if let Some(OpenHandle::File(mut file)) = self.handles.remove(&handle) {
            file.flush().await.map_err(io_err)?;
        }
        Ok(ok(id))
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let Some(OpenHandle::File(file)) = self.handles.get_mut(&handle) else {
            return Err(StatusCode::Failure.with_message("invalid handle"));
        };
        file.seek(SeekFrom::Start(offset)).await.map_err(io_err)?;
        let mut buf = vec![0u8; len.min(256 * 1024) as usize];
        let n = file.read(&mut buf).await.map_err(io_err)?;
        if n == 0 {
            return Err(StatusCode::Eof.into());
        }
        buf.truncate(n);
        Ok(Data { id, data: buf })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let Some(OpenHandle::File(file)) = self.handles.get_mut(&handle) else {
            return Err(StatusCode::Failure.with_message("invalid handle"));
        };
        file.seek(SeekFrom::Start(offset)).await.map_err(io_err)?;
        file.write_all(&data).await.map_err(io_err)?;
        Ok(ok(id))
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let resolved = self.vfs.resolve(&path, false).map_err(io_err)?;
        let meta = tokio::fs::symlink_metadata(&resolved.host)
            .await
            .map_err(io_err)?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&meta),
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let resolved = self.vfs.resolve(&path, true).map_err(io_err)?;
        let meta = tokio::fs::metadata(&resolved.host).await.map_err(io_err)?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&meta),
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let Some(OpenHandle::File(file)) = self.handles.get(&handle) else {
            return Err(StatusCode::Failure.with_message("invalid handle"));
        };
        let meta = file.metadata().await.map_err(io_err)?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&meta),
        })
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let resolved = self
            .vfs
            .resolve(&path, true)
            .map_err(io_err)?
            .require_writable()
            .map_err(io_err)?;
        if let Some(mode) = attrs.permissions {
            tokio::fs::set_permissions(
                &resolved.host,
                std::fs::Permissions::from_mode(mode & 0o7777),
            )
            .await
            .map_err(io_err)?;
        }
        if let Some(size) = attrs.size {
            let file = tokio::fs::OpenOptions::new()
                .write(true)
                .open(&resolved.host)
                .await
                .map_err(io_err)?;
            file.set_len(size).await.map_err(io_err)?;
        }
        Ok(ok(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let Some(OpenHandle::File(file)) = self.handles.get(&handle) else {
            return Err(StatusCode::Failure.with_message("invalid handle"));
        };
        if let Some(mode) = attrs.permissions {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))
                .await
                .map_err(io_err)?;
        }
        if let Some(size) = attrs.size {
            file.set_len(size).await.map_err(io_err)?;
        }
        Ok(ok(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let resolved = self.vfs.resolve(&path, true).map_err(io_err)?;
        let mut entries = Vec::new();
        for name in [".", ".."] {
            if let Ok(meta) = tokio::fs::metadata(&resolved.host).await {
                entries.push(File::new(name, attrs_of(&meta)));
            }
        }
        let mut dir = tokio::fs::read_dir(&resolved.host).await.map_err(io_err)?;
        while let Some(entry) = dir.next_entry().await.map_err(io_err)? {
            if let Ok(meta) = tokio::fs::symlink_metadata(entry.path()).await {
                entries.push(File::new(
                    entry.file_name().to_string_lossy(),
                    attrs_of(&meta),
                ));
            }
        }
        Ok(Handle {
            id,
            handle: self.add(OpenHandle::Dir {
                entries,
                sent: false,
            }),
        })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(OpenHandle::Dir { entries, sent }) if !*sent => {
                *sent = true;
                Ok(Name {
                    id,
                    files: std::mem::take(entries),
                })
            }
            Some(OpenHandle::Dir { .. }) => Err(StatusCode::Eof.into()),
            _ => Err(StatusCode::Failure.with_message("invalid handle")),
        }
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        let resolved = self
            .vfs
            .resolve(&filename, false)
            .map_err(io_err)?
            .require_writable()
            .map_err(io_err)?;
        tokio::fs::remove_file(&resolved.host)
            .await
            .map_err(io_err)?;
        Ok(ok(id))
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let resolved = self
            .vfs
            .resolve(&path, false)
            .map_err(io_err)?
            .require_writable()
            .map_err(io_err)?;
        tokio::fs::create_dir(&resolved.host)
            .await
            .map_err(io_err)?;
        let mode = attrs.permissions.map_or(0o755, |p| p & 0o7777);
        tokio::fs::set_permissions(&resolved.host, std::fs::Permissions::from_mode(mode))
            .await
            .map_err(io_err)?;
        Ok(ok(id))
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Result<Status, Self::Error> {
        let resolved = self
            .vfs
            .resolve(&path, false)
            .map_err(io_err)?
            .require_writable()
            .map_err(io_err)?;
        tokio::fs::remove_dir(&resolved.host)
            .await
            .map_err(io_err)?;
        Ok(ok(id))
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        let from = self
            .vfs
            .resolve(&oldpath, false)
            .map_err(io_err)?
            .require_writable()
            .map_err(io_err)?;
        let to = self
            .vfs
            .resolve(&newpath, false)
            .map_err(io_err)?
            .require_writable()
            .map_err(io_err)?;
        tokio::fs::rename(&from.host, &to.host)
            .await
            .map_err(io_err)?;
        Ok(ok(id))
    }

    async fn readlink(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let resolved = self.vfs.resolve(&path, false).map_err(io_err)?;
        let target = tokio::fs::read_link(&resolved.host).await.map_err(io_err)?;
        Ok(Name {
            id,
            files: vec![File::dummy(target.to_string_lossy())],
        })
    }

    async fn symlink(
        &mut self,
        id: u32,
        linkpath: String,
        targetpath: String,
    ) -> Result<Status, Self::Error> {
        let link = self
            .vfs
            .resolve(&linkpath, false)
            .map_err(io_err)?
            .require_writable()
            .map_err(io_err)?;
        tokio::fs::symlink(&targetpath, &link.host)
            .await
            .map_err(io_err)?;
        Ok(ok(id))
    }
}
