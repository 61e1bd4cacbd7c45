//! What a remote file looks like: [`FileStat`], [`DirEntry`], [`EntryKind`].

/// The type of a directory entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Other,
}

impl EntryKind {
    /// The type encoded in a Unix `st_mode`.
    pub(crate) fn from_mode(mode: u32) -> Self {
        match mode & 0o170000 {
            0o100000 => EntryKind::File,
            0o040000 => EntryKind::Dir,
            0o120000 => EntryKind::Symlink,
            _ => EntryKind::Other,
        }
    }
}

/// A file's type, size and permission bits; symbolic links are followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub kind: EntryKind,
    pub size: u64,
    /// Permission bits, e.g. `0o640` (setuid, setgid and sticky included).
    pub mode: u32,
}

impl FileStat {
    pub(crate) fn from_mode(mode: u32, size: u64) -> Self {
        FileStat {
            kind: EntryKind::from_mode(mode),
            size,
            mode: mode & 0o7777,
        }
    }
}

/// One entry of a directory listing (never `.` or `..`); symbolic links are not followed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DirEntry {
    pub name: String,
    pub kind: EntryKind,
}

#[cfg(test)]
mod tests {
    use super::{EntryKind, FileStat};

    #[test]
    fn decodes_st_mode() {
        assert_eq!(
            FileStat::from_mode(0o100640, 3),
            FileStat {
                kind: EntryKind::File,
                size: 3,
                mode: 0o640
            }
        );
        assert_eq!(EntryKind::from_mode(0o040755), EntryKind::Dir);
        assert_eq!(EntryKind::from_mode(0o120777), EntryKind::Symlink);
        assert_eq!(EntryKind::from_mode(0o020666), EntryKind::Other);
    }
}
