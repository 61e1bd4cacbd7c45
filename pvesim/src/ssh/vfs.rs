//! Path resolution confined to a sandbox root, for SFTP and `pct push`.
//!
//! Paths are resolved component by component like the kernel would inside the sandbox:
//! `..` stops at `/`, and symlinks (absolute or relative) are followed within the sandbox's
//! view, so no path can reach outside it. The view mirrors the bubblewrap mounts: `/usr` is the
//! host's (read-only) except `/usr/local`, which is the root's own.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};

/// Symlink hops before giving up (ELOOP).
const MAX_HOPS: usize = 40;

struct Mount {
    prefix: String,
    host: PathBuf,
    writable: bool,
}

/// A sandbox's filesystem view.
pub struct Vfs {
    /// Longest prefix first.
    mounts: Vec<Mount>,
    home: String,
}

/// A resolved path.
pub struct Resolved {
    pub host: PathBuf,
    /// The normalized path as seen inside the sandbox.
    pub virt: String,
    pub writable: bool,
}

impl Resolved {
    pub fn require_writable(self) -> io::Result<Self> {
        if self.writable {
            Ok(self)
        } else {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "read-only file system",
            ))
        }
    }
}

impl Vfs {
    /// A container: its root, the host's `/usr` read-only, its own `/usr/local`.
    pub fn container(root: &Path) -> Self {
        Self {
            mounts: vec![
                Mount {
                    prefix: "/usr/local".into(),
                    host: root.join("usr/local"),
                    writable: true,
                },
                Mount {
                    prefix: "/usr".into(),
                    host: PathBuf::from("/usr"),
                    writable: false,
                },
                Mount {
                    prefix: "/".into(),
                    host: root.to_path_buf(),
                    writable: true,
                },
            ],
            home: "/root".into(),
        }
    }

    /// A node's scratch filesystem.
    pub fn node(root: &Path) -> Self {
        Self {
            mounts: vec![Mount {
                prefix: "/".into(),
                host: root.to_path_buf(),
                writable: true,
            }],
            home: "/root".into(),
        }
    }

    fn host_path(&self, components: &[String]) -> (PathBuf, bool) {
        let virt = format!("/{}", components.join("/"));
        for m in &self.mounts {
            let rest = if m.prefix == "/" {
                Some(virt.trim_start_matches('/'))
            } else if virt == m.prefix {
                Some("")
            } else {
                virt.strip_prefix(&format!("{}/", m.prefix))
            };
            if let Some(rest) = rest {
                let host = if rest.is_empty() {
                    m.host.clone()
                } else {
                    m.host.join(rest)
                };
                return (host, m.writable);
            }
        }
        unreachable!("the root mount matches every path")
    }

    /// Resolves `path` (relative paths are relative to the home directory). With
    /// `follow_last` false a symlink in the last component is not followed (lstat, remove).
    pub fn resolve(&self, path: &str, follow_last: bool) -> io::Result<Resolved> {
        let start = if path.is_empty() || path == "." {
            self.home.clone()
        } else if path.starts_with('/') {
            path.to_string()
        } else {
            format!("{}/{path}", self.home)
        };
        let mut queue: VecDeque<String> = components(&start).collect();
        let mut current: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = queue.pop_front() {
            if part == ".." {
                current.pop();
                continue;
            }
            current.push(part);
            if queue.is_empty() && !follow_last {
                break;
            }
            let (host, _) = self.host_path(&current);
            let Ok(meta) = std::fs::symlink_metadata(&host) else {
                continue;
            };
            if !meta.file_type().is_symlink() {
                continue;
            }
            hops += 1;
            if hops > MAX_HOPS {
                return Err(io::Error::other("too many levels of symbolic links"));
            }
            let target = std::fs::read_link(&host)?;
            let target = target.to_string_lossy().into_owned();
            current.pop();
            if target.starts_with('/') {
                current.clear();
            }
            for (i, c) in components(&target).enumerate() {
                queue.insert(i, c);
            }
        }
        let (host, writable) = self.host_path(&current);
        Ok(Resolved {
            host,
            virt: format!("/{}", current.join("/")),
            writable,
        })
    }
}

fn components(path: &str) -> impl Iterator<Item = String> + '_ {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotdot_and_symlinks_stay_inside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("rootfs");
        std::fs::create_dir_all(root.join("etc")).expect("mkdir");
        std::fs::create_dir_all(root.join("usr/local")).expect("mkdir");
        std::os::unix::fs::symlink("/etc", root.join("escape")).expect("symlink");
        std::os::unix::fs::symlink("../../../../..", root.join("etc/up")).expect("symlink");
        let vfs = Vfs::container(&root);

        let r = vfs.resolve("../../../../tmp/x", true).expect("resolves");
        assert_eq!(r.virt, "/tmp/x");
        assert_eq!(r.host, root.join("tmp/x"));

        let r = vfs.resolve("/escape/passwd", true).expect("resolves");
        assert_eq!(r.host, root.join("etc/passwd"));

        let r = vfs.resolve("/etc/up/etc/shadow", true).expect("resolves");
        assert_eq!(r.host, root.join("etc/shadow"));

        let r = vfs.resolve("/usr/bin/env", true).expect("resolves");
        assert_eq!(r.host, PathBuf::from("/usr/bin/env"));
        assert!(!r.writable);
        let r = vfs.resolve("/usr/local/bin/tool", true).expect("resolves");
        assert_eq!(r.host, root.join("usr/local/bin/tool"));
        assert!(r.writable);

        let r = vfs.resolve("/escape", false).expect("resolves");
        assert_eq!(r.host, root.join("escape"));
        assert_eq!(
            vfs.resolve("notes.txt", true).expect("resolves").virt,
            "/root/notes.txt"
        );
    }
}
