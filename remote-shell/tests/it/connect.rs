//! Connecting: host-key pinning, authentication failures, retry with backoff.

use std::time::{Duration, Instant};

use remote_shell::{DeployKey, Password, RemoteError, RetryPolicy, connect, connect_with_retry};

use crate::support::{Sshd, free_port};

fn ms(delays: &[u64]) -> RetryPolicy {
    RetryPolicy::from_delays(delays.iter().copied().map(Duration::from_millis).collect())
}

#[tokio::test]
async fn first_use_reports_the_host_key_and_the_pinned_key_is_accepted_later() {
    let sshd = Sshd::start();
    let first = sshd.connect().await;
    assert_eq!(first.host_key(), &sshd.host_key());
    let stored = first.host_key().to_openssh();
    assert!(stored.starts_with("ssh-ed25519 AAAA"), "{stored}");

    let pinned = remote_shell::HostKey::parse(&stored).unwrap();
    let again = connect(&sshd.options().with_pinned_host_key(Some(pinned)))
        .await
        .unwrap();
    assert_eq!(again.host_key(), first.host_key());
}

#[tokio::test]
async fn with_several_pinned_keys_any_of_them_is_accepted_and_no_other() {
    let sshd = Sshd::start();
    let other = |n: u8| {
        let line = DeployKey::generate_with_comment(&format!("other-{n}")).public_openssh();
        remote_shell::HostKey::parse(&line).unwrap()
    };
    let session =
        connect(
            &sshd
                .options()
                .with_pinned_host_keys(vec![other(1), sshd.host_key(), other(2)]),
        )
        .await
        .unwrap();
    assert_eq!(session.host_key(), &sshd.host_key());

    let err = connect(
        &sshd
            .options()
            .with_pinned_host_keys(vec![other(3), other(4)]),
    )
    .await
    .unwrap_err();
    match err {
        RemoteError::HostKeyMismatch { expected, seen, .. } => {
            assert_eq!(expected.len(), 2);
            assert_eq!(seen, sshd.host_key());
        }
        other => panic!("expected HostKeyMismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_changed_host_key_is_refused_before_authentication_and_not_retried() {
    let mut sshd = Sshd::start();
    let pinned = sshd.host_key();
    sshd.restart_with_new_host_key();
    let new_key = sshd.host_key();
    assert_ne!(pinned, new_key);

    // A key the server would reject: had authentication started, this would be AuthFailed.
    let mut opts = sshd.options().with_pinned_host_key(Some(pinned.clone()));
    opts.key = DeployKey::generate();
    let started = Instant::now();
    let err = connect_with_retry(&opts, &ms(&[10_000, 10_000]))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "retried: {:?}",
        started.elapsed()
    );
    match err {
        RemoteError::HostKeyMismatch { expected, seen, .. } => {
            assert_eq!(expected, [pinned]);
            assert_eq!(seen, new_key);
        }
        other => panic!("expected HostKeyMismatch, got {other:?}"),
    }
    let log = sshd.log();
    assert_eq!(log.matches("Connection from").count(), 1, "{log}");
    assert!(
        !log.contains("publickey") && !log.contains("authenticating user"),
        "{log}"
    );
}

#[tokio::test]
async fn an_authentication_failure_is_not_retried() {
    let sshd = Sshd::start();
    let mut opts = sshd
        .options()
        .with_password(Password::new("not the password"));
    opts.key = DeployKey::generate();
    let started = Instant::now();
    let err = connect_with_retry(&opts, &ms(&[10_000, 10_000]))
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::AuthFailed { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "retried: {:?}",
        started.elapsed()
    );
    assert!(!format!("{err} {err:?} {opts:?}").contains("not the password"));
    assert_eq!(sshd.log().matches("Connection from").count(), 1);
}

#[tokio::test]
async fn retries_with_backoff_until_sshd_listens() {
    let mut sshd = Sshd::stopped();
    let opts = sshd.options();
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        sshd.spawn();
        sshd
    });
    let started = Instant::now();
    let session = connect_with_retry(&opts, &ms(&[100, 200, 400, 800, 1600]))
        .await
        .unwrap();
    let sshd = starter.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(session.host_key(), &sshd.host_key());
}

#[tokio::test]
async fn gives_up_after_the_last_delay_with_unreachable() {
    let opts =
        remote_shell::ConnectOptions::new("127.0.0.1", free_port(), "root", DeployKey::generate());
    let started = Instant::now();
    let err = connect_with_retry(&opts, &ms(&[50, 100]))
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Unreachable { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn a_silent_server_hits_the_connect_timeout() {
    // Accepts TCP but never speaks SSH.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let opts = remote_shell::ConnectOptions::new("127.0.0.1", port, "root", DeployKey::generate())
        .with_connect_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = connect(&opts).await.unwrap_err();
    assert!(matches!(err, RemoteError::Unreachable { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it waited for the server"
    );
    drop(listener);
}
