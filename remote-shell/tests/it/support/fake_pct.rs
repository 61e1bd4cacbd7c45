//! A stand-in for Proxmox's `pct`, for the tests only: container VMID is a bubblewrap root at
//! `ct/VMID` of the sshd's directory, so nothing a test runs "in the container" can write
//! outside it. Supports `pct exec VMID -- CMD…` and `pct push VMID SRC DST [--perms MODE]`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const SCRIPT: &str = r#"#!/bin/sh
set -eu
command=$1 vmid=$2
shift 2
root="@CT_ROOT@/$vmid"
mkdir -p "$root/usr" "$root/proc" "$root/dev" "$root/tmp"
for l in bin lib lib64 sbin; do ln -sfn "usr/$l" "$root/$l"; done
case $command in
exec)
  [ "${1-}" = "--" ] && shift
  exec bwrap --bind "$root" / --ro-bind /usr /usr --proc /proc --dev /dev \
    --unshare-pid --die-with-parent -- "$@"
  ;;
push)
  src=$1 dst=$2
  shift 2
  perms=
  while [ $# -gt 0 ]; do
    case $1 in
      --perms) perms=$2; shift 2 ;;
      *) echo "fake pct: unsupported option $1" >&2; exit 2 ;;
    esac
  done
  [ -d "$root$(dirname "$dst")" ] || { echo "fake pct: no directory for $dst" >&2; exit 2; }
  cp "$src" "$root$dst"
  [ -z "$perms" ] || chmod "$perms" "$root$dst"
  ;;
*)
  echo "fake pct: unsupported command $command" >&2
  exit 2
  ;;
esac
"#;

/// Writes `bin/pct` into `dir` (which sshd puts first on `PATH`).
pub fn install(dir: &Path) {
    assert!(
        Command::new("bwrap").arg("--version").output().is_ok(),
        "bwrap is missing: the fake pct needs it (apt-get install bubblewrap)"
    );
    let script = SCRIPT.replace(
        "@CT_ROOT@",
        dir.join("ct").to_str().expect("UTF-8 temp dir"),
    );
    let path = dir.join("bin/pct");
    fs::write(&path, script).expect("write fake pct");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod fake pct");
}
