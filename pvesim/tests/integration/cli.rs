//! The `pvesim` binary: what it prints at start, and its refusal to run without bubblewrap.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn binary_prints_fingerprint_url_and_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pvesim"))
        .arg("--state-dir")
        .arg(dir.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--ssh-port",
            "0",
            "--fast",
            "--user",
            "admin@pve:adminpw",
        ])
        .args([
            "--token",
            "admin@pve!ci=tok-secret",
            "--privs",
            "admin@pve!ci=PVEAuditor",
            "--fail-next",
            "vzcreate=boom",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("pvesim binary runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("output in time")
    {
        let done = line.starts_with("container ssh:");
        printed.push(line);
        if done {
            break;
        }
    }
    let text = printed.join("\n");
    let fingerprint = printed
        .iter()
        .find_map(|l| l.strip_prefix("fingerprint: "))
        .expect("fingerprint line");
    assert!(
        regex::Regex::new(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
            .unwrap()
            .is_match(fingerprint),
        "{text}"
    );
    assert!(text.contains("api: https://127.0.0.1:"), "{text}");
    assert!(text.contains("user: admin@pve password: adminpw"), "{text}");
    assert!(
        text.contains("token: Authorization: PVEAPIToken=admin@pve!ci=tok-secret"),
        "{text}"
    );
    assert!(dir.path().join("pve-ssl.pem").exists());
    child.kill().await.unwrap();
}

#[tokio::test]
async fn binary_refuses_to_start_without_bubblewrap() {
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_pvesim"))
        .arg("--state-dir")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0"])
        .env("PATH", "/nonexistent")
        .output()
        .await
        .expect("pvesim binary runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bubblewrap"), "{stderr}");
}
