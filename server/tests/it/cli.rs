//! Running the `server` binary's admin commands the way an operator does.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `server ARGS` against `database_url` and the test Redis with the extra `env`, `stdin`
/// as the first line of its standard input; whether it succeeded, and what it printed.
pub fn run_server(
    args: &[&str],
    database_url: &str,
    env: &[(&str, &std::path::Path)],
    stdin: &str,
) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("REDIS_URL", testkit::redis_url())
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{stdin}").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
