//! Arguments reach the remote program byte for byte, whatever they contain.

use remote_shell::{Command, DirectSsh, ExecOptions, RemoteError};

use crate::support::{Sshd, capture};

/// Strings that would do harm if a shell parsed them.
pub const NASTY: &[&str] = &[
    "'; rm -rf /tmp/x; echo '",
    "$(id)",
    "`id`",
    "line one\nline two\n",
    "\"double\" and 'single'",
    "back\\slash \\n",
    "* ? [a-z] ~root {a,b}",
    "$HOME ${PATH} $0 $$",
    "-n",
    "",
    "tab\there; semi; && || | > < &",
    "é ☃ \u{1F980}",
    "'''",
    "!! !-1",
];

#[tokio::test]
async fn nasty_strings_round_trip_through_printf() {
    let sshd = Sshd::start();
    let target = DirectSsh::new(sshd.connect().await);
    for nasty in NASTY {
        let out = capture(&target, Command::new("printf").arg("%s").arg(*nasty)).await;
        assert_eq!(out.stdout_lossy(), *nasty);
        assert!(
            out.success() && out.stderr.is_empty(),
            "{nasty:?}: {}",
            out.stderr_lossy()
        );
    }
}

#[tokio::test]
async fn data_in_a_script_arrives_as_positional_parameters() {
    let sshd = Sshd::start();
    let target = DirectSsh::new(sshd.connect().await);
    let canary = sshd.work_dir().join("canary");
    std::fs::write(&canary, "alive").unwrap();
    let attack = format!("'; rm -f {}; echo '", canary.display());
    let out = capture(
        &target,
        Command::sh(r#"printf '%s|%s' "$1" "$2""#).args([attack.as_str(), "$(id)"]),
    )
    .await;
    assert_eq!(out.stdout_lossy(), format!("{attack}|$(id)"));
    assert!(canary.exists());
}

#[tokio::test]
async fn a_nul_byte_is_rejected_before_anything_runs() {
    let sshd = Sshd::start();
    let session = sshd.connect().await;
    let err = session
        .exec_capture(&Command::new("echo").arg("a\0b"), &ExecOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::BadArgument { .. }), "{err:?}");
}
