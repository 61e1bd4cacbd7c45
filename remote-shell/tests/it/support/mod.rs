//! Test support: a private OpenSSH sshd and a fake `pct` on its `PATH`.

pub mod fake_pct;
pub mod sshd;

use std::time::Duration;

use remote_shell::{Command, ExecOptions, Output, RemoteTarget};

pub use sshd::{Sshd, free_port};

/// Runs `cmd` with a 30 s timeout and returns its output.
pub async fn capture(target: &impl RemoteTarget, cmd: Command) -> Output {
    target
        .exec_capture(&cmd, &ExecOptions::with_timeout(Duration::from_secs(30)))
        .await
        .expect("command runs")
}
