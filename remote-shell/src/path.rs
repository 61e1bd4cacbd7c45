//! [`RemotePath`]: an absolute remote path with no `..`, checked once and trusted after.

use std::fmt;
use std::str::FromStr;

use crate::error::RemoteError;

/// An absolute, normalized remote path: starts with `/`, has no `..` component, no empty or
/// `.` components, and no NUL byte. Every file operation takes one, so a template's path can
/// never climb out of the directory it was joined onto.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemotePath(String);

impl RemotePath {
    /// Checks and normalizes an absolute path (`//` and `/./` collapse; `..` is an error).
    pub fn new(path: &str) -> Result<Self, RemoteError> {
        if !path.starts_with('/') {
            return Err(bad(path, "must be absolute"));
        }
        let mut normalized = String::with_capacity(path.len());
        push_components(&mut normalized, path)?;
        if normalized.is_empty() {
            normalized.push('/');
        }
        Ok(RemotePath(normalized))
    }

    /// `self` followed by a relative path, e.g. a template's path below its target directory.
    /// An absolute `relative` or one with a `..` component is an error.
    pub fn join(&self, relative: &str) -> Result<Self, RemoteError> {
        if relative.starts_with('/') {
            return Err(bad(relative, "must be relative to its target directory"));
        }
        let mut joined = if self.is_root() {
            String::new()
        } else {
            self.0.clone()
        };
        push_components(&mut joined, relative)?;
        if joined.is_empty() {
            joined.push('/');
        }
        Ok(RemotePath(joined))
    }

    /// The directory holding this path, or `None` for `/`.
    pub fn parent(&self) -> Option<RemotePath> {
        if self.is_root() {
            return None;
        }
        let cut = self.0.rfind('/').unwrap_or(0);
        Some(RemotePath(if cut == 0 {
            "/".to_owned()
        } else {
            self.0[..cut].to_owned()
        }))
    }

    /// The last component, or `None` for `/`.
    pub fn file_name(&self) -> Option<&str> {
        if self.is_root() {
            None
        } else {
            self.0.rsplit('/').next()
        }
    }

    /// Whether this is `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The path as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A sibling of this path for writing before an atomic rename: `.NAME.SUFFIX.tmp`.
    pub(crate) fn temp_sibling(&self) -> Result<RemotePath, RemoteError> {
        let (Some(parent), Some(name)) = (self.parent(), self.file_name()) else {
            return Err(bad(&self.0, "names a directory, not a file"));
        };
        let suffix: u64 = rand::random();
        parent.join(&format!(".{name}.{suffix:016x}.tmp"))
    }
}

/// Appends `/component` for each real component of `path`.
fn push_components(out: &mut String, path: &str) -> Result<(), RemoteError> {
    if path.contains('\0') {
        return Err(bad(path, "contains a NUL byte"));
    }
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => return Err(bad(path, "must not contain `..`")),
            name => {
                out.push('/');
                out.push_str(name);
            }
        }
    }
    Ok(())
}

fn bad(path: &str, reason: &'static str) -> RemoteError {
    RemoteError::BadPath {
        path: path.to_owned(),
        reason,
    }
}

impl fmt::Display for RemotePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RemotePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for RemotePath {
    type Err = RemoteError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RemotePath::new(s)
    }
}

impl TryFrom<&str> for RemotePath {
    type Error = RemoteError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        RemotePath::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::RemotePath;
    use crate::RemoteError;

    fn path(s: &str) -> RemotePath {
        RemotePath::new(s).unwrap()
    }

    #[test]
    fn normalizes_absolute_paths() {
        assert_eq!(path("/etc//infrahaus/./x").as_str(), "/etc/infrahaus/x");
        assert_eq!(path("/").as_str(), "/");
        assert_eq!(path("//").as_str(), "/");
        assert_eq!(path("/a/").as_str(), "/a");
    }

    #[test]
    fn rejects_relative_dotdot_and_nul() {
        for bad in ["", "etc/x", "./x", "/a/../b", "/..", "/a/..", "/a\0b"] {
            assert!(
                matches!(RemotePath::new(bad), Err(RemoteError::BadPath { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn join_stays_below_its_base() {
        let base = path("/srv/app");
        assert_eq!(
            base.join("conf/a.toml").unwrap().as_str(),
            "/srv/app/conf/a.toml"
        );
        assert_eq!(path("/").join("etc").unwrap().as_str(), "/etc");
        for escape in ["../x", "a/../../x", "/etc/passwd", "a/..", ".."] {
            assert!(base.join(escape).is_err(), "{escape:?}");
        }
    }

    #[test]
    fn parent_and_file_name() {
        assert_eq!(path("/a/b").parent(), Some(path("/a")));
        assert_eq!(path("/a").parent(), Some(path("/")));
        assert_eq!(path("/").parent(), None);
        assert_eq!(path("/a/b").file_name(), Some("b"));
        assert_eq!(path("/").file_name(), None);
    }

    #[test]
    fn temp_sibling_is_hidden_in_the_same_directory() {
        let tmp = path("/etc/app.conf").temp_sibling().unwrap();
        assert_eq!(tmp.parent(), Some(path("/etc")));
        let name = tmp.file_name().unwrap();
        assert!(
            name.starts_with(".app.conf.") && name.ends_with(".tmp"),
            "{name}"
        );
        assert!(path("/").temp_sibling().is_err());
    }
}
