//! Running commands: exit codes, separate and streamed output, limits, signals, timeouts.

use std::time::{Duration, Instant};

use remote_shell::{Command, DirectSsh, ExecOptions, OutputLine, RemoteError, Stream};
use tokio::sync::mpsc;

use crate::support::{Sshd, capture};

fn line(stream: Stream, text: &str) -> OutputLine {
    OutputLine {
        stream,
        text: text.to_owned(),
        truncated: false,
    }
}

async fn collect(mut rx: mpsc::Receiver<OutputLine>) -> Vec<OutputLine> {
    let mut lines = Vec::new();
    while let Some(line) = rx.recv().await {
        lines.push(line);
    }
    lines
}

#[tokio::test]
async fn reports_exit_codes_and_separates_stdout_from_stderr() {
    let sshd = Sshd::start();
    let target = DirectSsh::new(sshd.connect().await);
    let out = capture(&target, Command::sh("echo out; echo err >&2; exit 7")).await;
    assert_eq!(out.status.code(), 7);
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    assert!(out.checked().is_err());

    assert!(capture(&target, Command::new("true")).await.success());
    let missing = capture(&target, Command::new("no-such-program-here")).await;
    assert_eq!(missing.status.code(), 127);
}

/// Sessions start in a clean shell, as in a fresh container: the start-up files of whoever runs
/// the tests (their `~/.bashrc`) are not read, so nothing of theirs runs or prints.
#[tokio::test]
async fn sessions_do_not_run_the_test_users_shell_start_up_files() {
    let sshd = Sshd::start();
    let target = DirectSsh::new(sshd.connect().await);
    let out = capture(&target, Command::sh("printf %s \"$HOME\"")).await;
    assert_eq!(out.stdout_lossy(), sshd.home_dir().display().to_string());
    assert!(out.stderr.is_empty(), "{}", out.stderr_lossy());
}

#[tokio::test]
async fn streams_lines_while_the_command_runs() {
    let sshd = Sshd::start();
    let session = sshd.connect().await;
    let (tx, mut rx) = mpsc::channel(16);
    let cmd = Command::sh("echo first; sleep 1; echo second >&2; sleep 1; echo third");
    let run = tokio::spawn(async move { session.exec(&cmd, &ExecOptions::default(), &tx).await });

    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, line(Stream::Stdout, "first"));
    assert!(
        !run.is_finished(),
        "the first line came only after the command ended"
    );

    let rest = collect(rx).await;
    assert_eq!(
        rest,
        vec![
            line(Stream::Stderr, "second"),
            line(Stream::Stdout, "third")
        ]
    );
    assert!(run.await.unwrap().unwrap().success());
}

#[tokio::test]
async fn handles_long_output_in_both_modes() {
    let sshd = Sshd::start();
    let session = sshd.connect().await;
    let cmd = Command::new("seq").args(["1", "200000"]);

    let roomy = ExecOptions {
        output_limit: 4 << 20,
        ..ExecOptions::default()
    };
    let out = session.exec_capture(&cmd, &roomy).await.unwrap();
    let text = out.stdout_lossy();
    assert_eq!(text.lines().count(), 200_000);
    assert!(text.ends_with("\n200000\n"));
    assert!(!out.stdout_truncated);

    let (tx, rx) = mpsc::channel(64);
    let counter = tokio::spawn(collect(rx));
    session
        .exec(&cmd, &ExecOptions::default(), &tx)
        .await
        .unwrap();
    drop(tx);
    let lines = counter.await.unwrap();
    assert_eq!(lines.len(), 200_000);
    assert_eq!(lines[199_999], line(Stream::Stdout, "200000"));

    let limited = ExecOptions {
        output_limit: 1000,
        ..ExecOptions::default()
    };
    let out = session.exec_capture(&cmd, &limited).await.unwrap();
    assert_eq!(out.stdout.len(), 1000);
    assert!(out.stdout_truncated && out.success());
}

#[tokio::test]
async fn splits_crlf_partial_and_overlong_lines() {
    let sshd = Sshd::start();
    let session = sshd.connect().await;
    let (tx, rx) = mpsc::channel(16);
    let script = r"printf 'a\r\nb'; sleep 0.2; printf 'c\r\n'; head -c 20000 /dev/zero | tr '\0' x; printf '\r\nlast'";
    session
        .exec(&Command::sh(script), &ExecOptions::default(), &tx)
        .await
        .unwrap();
    drop(tx);
    let lines = collect(rx).await;
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0], line(Stream::Stdout, "a"));
    assert_eq!(lines[1], line(Stream::Stdout, "bc"));
    assert_eq!(lines[2].text, "x".repeat(8192));
    assert!(lines[2].truncated);
    assert_eq!(lines[3], line(Stream::Stdout, "last"));
}

#[tokio::test]
async fn a_command_killed_by_a_signal_is_an_error() {
    let sshd = Sshd::start();
    let session = sshd.connect().await;
    let err = session
        .exec_capture(&Command::sh("kill -9 $$"), &ExecOptions::default())
        .await
        .unwrap_err();
    match err {
        RemoteError::KilledBySignal {
            program, signal, ..
        } => {
            assert_eq!(program, "sh");
            assert_eq!(signal, "SIGKILL");
        }
        other => panic!("expected KilledBySignal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_command_over_its_timeout_is_killed() {
    let sshd = Sshd::start();
    let session = sshd.connect().await;
    let marker = sshd.work_dir().join("finished");
    // Long enough that a slow kill on a loaded machine still comes first.
    let cmd = Command::sh(r#"sleep 6; touch "$1""#).arg(marker.to_str().unwrap());
    let started = Instant::now();
    let err = session
        .exec_capture(&cmd, &ExecOptions::with_timeout(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RemoteError::CommandTimedOut { .. }),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "waited for the command"
    );
    tokio::time::sleep(Duration::from_millis(6500)).await;
    assert!(!marker.exists(), "the command went on after its timeout");

    // The session is still usable.
    assert!(
        session
            .exec_capture(&Command::new("true"), &ExecOptions::default())
            .await
            .unwrap()
            .success()
    );
}

#[tokio::test]
async fn commands_run_concurrently_on_one_session() {
    let sshd = Sshd::start();
    let session = sshd.connect().await;
    let opts = ExecOptions::default();
    // Each command marks that it runs, then waits for the other's mark: they can only both
    // finish when they run at the same time on the one session.
    let (mark_a, mark_b) = (sshd.work_dir().join("a"), sshd.work_dir().join("b"));
    let handshake = |own: &std::path::Path, other: &std::path::Path, word: &str| {
        Command::sh(r#"touch "$1"; while [ ! -e "$2" ]; do sleep 0.05; done; echo "$3""#)
            .arg(own.to_str().unwrap())
            .arg(other.to_str().unwrap())
            .arg(word)
    };
    let (first, second) = (
        handshake(&mark_a, &mark_b, "a"),
        handshake(&mark_b, &mark_a, "b"),
    );
    let both = async {
        tokio::join!(
            session.exec_capture(&first, &opts),
            session.exec_capture(&second, &opts)
        )
    };
    let (a, b) = tokio::time::timeout(Duration::from_secs(60), both)
        .await
        .expect("the two commands did not run side by side");
    assert_eq!(a.unwrap().stdout, b"a\n");
    assert_eq!(b.unwrap().stdout, b"b\n");
}
