//! The `pct` fallback, through a fake `pct` (bubblewrap roots) on the test sshd's `PATH`.

use std::fs;
use std::time::{Duration, Instant};

use remote_shell::{
    AnyTarget, Command, ExecOptions, OutputLine, PctViaNode, RemoteError, RemotePath, RemoteTarget,
    Stream,
};
use tokio::sync::mpsc;

use crate::file_ops::check_file_operations;
use crate::quoting::NASTY;
use crate::support::{Sshd, capture};

const VMID: u32 = 105;

async fn pct_target(sshd: &Sshd) -> PctViaNode {
    let staging = sshd.work_path("staging");
    fs::create_dir_all(sshd.work_dir().join("staging")).unwrap();
    PctViaNode::new(sshd.connect().await, VMID).with_staging_dir(staging)
}

#[tokio::test]
async fn commands_run_inside_the_container() {
    let sshd = Sshd::start();
    let target = pct_target(&sshd).await;
    fs::create_dir_all(sshd.container_root(VMID).join("etc")).unwrap();
    fs::write(sshd.container_root(VMID).join("etc/hostname"), "ct105\n").unwrap();

    let out = capture(
        &target,
        Command::sh("cat /etc/hostname; echo oops >&2; exit 3"),
    )
    .await;
    assert_eq!(out.stdout, b"ct105\n");
    assert_eq!(out.stderr, b"oops\n");
    assert_eq!(out.status.code(), 3);
    let err = out.checked().unwrap_err();
    assert!(
        matches!(&err, RemoteError::CommandFailed { program, .. } if program == "sh"),
        "{err:?}"
    );
    assert_eq!(
        target.describe(),
        format!(
            "CT 105 via {}@127.0.0.1:{}",
            sshd.options().user,
            sshd.port()
        )
    );
}

#[tokio::test]
async fn nasty_strings_survive_both_shell_layers() {
    let sshd = Sshd::start();
    let target = pct_target(&sshd).await;
    for nasty in NASTY {
        let out = capture(&target, Command::new("printf").arg("%s").arg(*nasty)).await;
        assert_eq!(out.stdout_lossy(), *nasty);
        assert!(out.success(), "{nasty:?}: {}", out.stderr_lossy());
    }
}

#[tokio::test]
async fn output_streams_through_the_node() {
    let sshd = Sshd::start();
    let target = pct_target(&sshd).await;
    let (tx, mut rx) = mpsc::channel(16);
    let started = Instant::now();
    let run = async {
        let status = target
            .exec(
                &Command::sh("echo one; sleep 1; echo two >&2"),
                &ExecOptions::default(),
                &tx,
            )
            .await;
        drop(tx);
        status
    };
    let read = async {
        let first = rx.recv().await.unwrap();
        let first_at = started.elapsed();
        let mut rest = Vec::new();
        while let Some(line) = rx.recv().await {
            rest.push(line);
        }
        (first, first_at, rest)
    };
    let (status, (first, first_at, rest)) = tokio::join!(run, read);
    assert!(status.unwrap().success());
    assert_eq!(first.text, "one");
    assert!(
        first_at < Duration::from_millis(900),
        "first line after {first_at:?}"
    );
    assert_eq!(
        rest,
        vec![OutputLine {
            stream: Stream::Stderr,
            text: "two".into(),
            truncated: false
        }]
    );
}

#[tokio::test]
async fn file_operations_through_pct() {
    let sshd = Sshd::start();
    let target = pct_target(&sshd).await;
    let base = RemotePath::new("/srv/app").unwrap();
    check_file_operations(&target, &base, &sshd.container_root(VMID).join("srv/app")).await;
    // The staged copies on the node are gone.
    assert!(
        fs::read_dir(sshd.work_dir().join("staging"))
            .unwrap()
            .next()
            .is_none()
    );
}

#[tokio::test]
async fn credentials_land_in_the_container_root_only() {
    let sshd = Sshd::start();
    let target = AnyTarget::from(pct_target(&sshd).await);
    let path = RemotePath::new("/etc/infrahaus/credentials/db").unwrap();
    target.upload(&path, b"secret", 0o600).await.unwrap();
    let local = sshd
        .container_root(VMID)
        .join("etc/infrahaus/credentials/db");
    assert_eq!(fs::read(local).unwrap(), b"secret");
    let dir = RemotePath::new("/etc/infrahaus/credentials").unwrap();
    let names: Vec<String> = target
        .list_dir(&dir)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["db"]);
}

#[tokio::test]
async fn a_timed_out_command_is_killed_inside_the_container() {
    let sshd = Sshd::start();
    let target = pct_target(&sshd).await;
    // Long enough that a slow kill on a loaded machine still comes first.
    let cmd = Command::sh("sleep 6; touch /finished");
    let err = target
        .exec_capture(&cmd, &ExecOptions::with_timeout(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RemoteError::CommandTimedOut { program, .. } if program == "sh"),
        "{err:?}"
    );
    tokio::time::sleep(Duration::from_millis(6500)).await;
    assert!(!sshd.container_root(VMID).join("finished").exists());
}
