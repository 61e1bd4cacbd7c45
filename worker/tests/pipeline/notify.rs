//! The worker binary under systemd's notify protocol: `READY=1` once it reached PostgreSQL and
//! Redis, `WATCHDOG=1` from the lease loop, `STOPPING=1` on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use tokio::net::UnixDatagram;

use crate::common::*;
use crate::sigterm::worker_command;

async fn next(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(60), socket.recv(&mut buf))
        .await
        .expect("a notification within a minute")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_says_ready_feeds_the_watchdog_and_says_stopping() {
    let world = World::start(WorldOptions::default()).await;
    let path = world.path("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    let log = std::fs::File::create(world.path("worker.log")).unwrap();
    let mut child = worker_command(&world)
        .env("NOTIFY_SOCKET", &path)
        .env("INFRAHAUS_WORKER_LEASE_SECS", "1")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the worker binary starts");
    assert_eq!(next(&socket).await, "READY=1");
    for _ in 0..3 {
        assert_eq!(next(&socket).await, "WATCHDOG=1");
    }
    let pid = child.id().expect("running").to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut rest = Vec::new();
    loop {
        let message = next(&socket).await;
        if message == "STOPPING=1" {
            break;
        }
        rest.push(message);
    }
    assert!(rest.iter().all(|m| m == "WATCHDOG=1"), "{rest:?}");
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the worker exits after SIGTERM")
        .unwrap();
    let worker_log = std::fs::read_to_string(world.path("worker.log")).unwrap_or_default();
    assert!(status.success(), "exit status {status}; log:\n{worker_log}");
}
