//! File operations, written once against [`RemoteTarget`] and run over SFTP here and over
//! `pct` in `pct.rs`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use remote_shell::{
    DirEntry, DirectSsh, EntryKind, FileStat, RemoteError, RemotePath, RemoteTarget,
};

use crate::support::Sshd;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Checks every file operation of `target` below `base`, a remote directory that does not
/// exist yet and is `local` on this machine.
pub async fn check_file_operations(target: &impl RemoteTarget, base: &RemotePath, local: &Path) {
    // Upload creates the parents and sets the mode.
    let conf = base.join("etc/app/app.conf").unwrap();
    let local_conf = local.join("etc/app/app.conf");
    target.upload(&conf, b"v1\n", 0o640).await.unwrap();
    assert_eq!(fs::read(&local_conf).unwrap(), b"v1\n");
    assert_eq!(mode(&local_conf), 0o640);
    let first_inode = fs::metadata(&local_conf).unwrap().ino();

    // A second upload replaces the file by rename: new inode, no temporary file left.
    target.upload(&conf, b"version two\n", 0o600).await.unwrap();
    assert_eq!(fs::read(&local_conf).unwrap(), b"version two\n");
    assert_eq!(mode(&local_conf), 0o600);
    assert_ne!(fs::metadata(&local_conf).unwrap().ino(), first_inode);
    assert_eq!(names(&local.join("etc/app")), ["app.conf"]);

    // Larger binary files round-trip.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let bin = base.join("bin/tool").unwrap();
    target.upload(&bin, &big, 0o755).await.unwrap();
    assert_eq!(mode(&local.join("bin/tool")), 0o755);
    assert_eq!(target.read_file(&bin, 1 << 20).await.unwrap(), big);
    let err = target.read_file(&bin, 1000).await.unwrap_err();
    assert!(
        matches!(err, RemoteError::TooLarge { limit: 1000, .. }),
        "{err:?}"
    );
    let missing = base.join("missing").unwrap();
    let err = target.read_file(&missing, 1000).await.unwrap_err();
    assert!(matches!(err, RemoteError::NotFound { .. }), "{err:?}");

    // stat and exists.
    let stat = FileStat {
        kind: EntryKind::File,
        size: 12,
        mode: 0o600,
    };
    assert_eq!(target.stat(&conf).await.unwrap(), Some(stat));
    let dir = base.join("etc/app").unwrap();
    assert_eq!(
        target.stat(&dir).await.unwrap().unwrap().kind,
        EntryKind::Dir
    );
    assert_eq!(target.stat(&missing).await.unwrap(), None);
    assert!(target.exists(&conf).await.unwrap());
    assert!(!target.exists(&missing).await.unwrap());

    // list_dir sees files, directories and links, whatever their names.
    let odd = "we ird\n'name' $(x)";
    fs::write(local.join("etc/app").join(odd), "x").unwrap();
    fs::create_dir(local.join("etc/app/sub")).unwrap();
    std::os::unix::fs::symlink("app.conf", local.join("etc/app/link")).unwrap();
    let entry = |name: &str, kind| DirEntry {
        name: name.into(),
        kind,
    };
    let mut expected = vec![
        entry("app.conf", EntryKind::File),
        entry("link", EntryKind::Symlink),
        entry("sub", EntryKind::Dir),
        entry(odd, EntryKind::File),
    ];
    expected.sort();
    assert_eq!(target.list_dir(&dir).await.unwrap(), expected);
    let err = target.list_dir(&missing).await.unwrap_err();
    assert!(matches!(err, RemoteError::NotFound { .. }), "{err:?}");

    // rename replaces its target; remove is idempotent.
    let other = base.join("etc/app/other.conf").unwrap();
    target.upload(&other, b"other", 0o644).await.unwrap();
    target.rename(&conf, &other).await.unwrap();
    assert!(!local_conf.exists());
    assert_eq!(
        fs::read(local.join("etc/app/other.conf")).unwrap(),
        b"version two\n"
    );
    target.remove(&other).await.unwrap();
    assert!(!local.join("etc/app/other.conf").exists());
    target.remove(&other).await.unwrap();

    // A file in the way of a parent directory is an error, not a silent overwrite.
    let blocked = base.join("bin/tool/inside").unwrap();
    assert!(target.upload(&blocked, b"x", 0o644).await.is_err());
    assert_eq!(fs::read(local.join("bin/tool")).unwrap(), big);
}

#[tokio::test]
async fn sftp_file_operations() {
    let sshd = Sshd::start();
    let target = DirectSsh::new(sshd.connect().await);
    check_file_operations(
        &target,
        &sshd.work_path("deploy"),
        &sshd.work_dir().join("deploy"),
    )
    .await;
}

#[tokio::test]
async fn template_paths_cannot_escape_their_target() {
    let sshd = Sshd::start();
    let base = sshd.work_path("site");
    for escape in ["../outside", "a/../../outside", "/etc/passwd", ".."] {
        let err = base.join(escape).unwrap_err();
        assert!(
            matches!(err, RemoteError::BadPath { .. }),
            "{escape}: {err:?}"
        );
    }
    for bad in ["relative/path", "/srv/../etc/passwd", ""] {
        assert!(
            matches!(RemotePath::new(bad), Err(RemoteError::BadPath { .. })),
            "{bad}"
        );
    }
    assert!(!sshd.work_dir().join("outside").exists());
}
