//! The read loop: start a command line on a channel and collect what comes back.

use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg, Sig};
use tokio::time::Instant;

use super::pid_header::PidHeader;
use super::{ExitStatus, Sink};
use crate::lines::Stream;

/// How the read loop can fail; the session adds host and program to make a
/// [`RemoteError`](crate::RemoteError).
pub(crate) enum RunError {
    /// Time ran out; `pid` leads the command's process group, if it was reported.
    TimedOut {
        pid: Option<u32>,
    },
    Signal {
        name: String,
        core_dumped: bool,
    },
    NoExitStatus,
    Refused,
}

/// How the remote shell starts a command line.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Launch {
    /// `exec` it in place of the shell, so that a signal ending it is reported as such.
    Replace,
    /// Run it as the shell's child, for wrappers such as `pct` that some tools (the Proxmox
    /// simulator among them) only recognize at the start of a command.
    Child,
}

/// Starts `command_line` on `channel` and reads until the channel closes or time runs out.
///
/// The line sent first prints the remote shell's PID and a NUL on stdout. That PID leads the
/// command's process group, since sshd starts each session in a new one; on timeout the caller
/// kills the group. OpenSSH ignores the SSH `signal` request for root sessions, and closing a
/// channel without a pty does not stop the command.
pub(crate) async fn run(
    mut channel: Channel<Msg>,
    command_line: &str,
    launch: Launch,
    timeout: Duration,
    sink: &mut Sink<'_>,
) -> Result<Result<ExitStatus, RunError>, russh::Error> {
    let deadline = Instant::now() + timeout;
    let exec = match launch {
        Launch::Replace => "exec ",
        Launch::Child => "",
    };
    channel
        .exec(
            true,
            format!(r#"printf '%s\000' "$$"; {exec}{command_line}"#),
        )
        .await?;
    let mut pid = PidHeader::default();
    let mut status = None;
    let mut signal = None;
    loop {
        let msg = match tokio::time::timeout_at(deadline, channel.wait()).await {
            Ok(Some(msg)) => msg,
            Ok(None) => break,
            Err(_) => {
                let _ = channel.signal(Sig::KILL).await;
                let _ = channel.close().await;
                return Ok(Err(RunError::TimedOut { pid: pid.pid }));
            }
        };
        match msg {
            ChannelMsg::Data { data } => {
                let rest = pid.strip(&data);
                if !rest.is_empty() {
                    sink.push(Stream::Stdout, &rest).await;
                }
            }
            ChannelMsg::ExtendedData { data, ext: 1 } => sink.push(Stream::Stderr, &data).await,
            ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            ChannelMsg::ExitSignal {
                signal_name,
                core_dumped,
                ..
            } => signal = Some((signal_name, core_dumped)),
            ChannelMsg::Failure => return Ok(Err(RunError::Refused)),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    sink.finish().await;
    Ok(match (status, signal) {
        (_, Some((sig, core_dumped))) => Err(RunError::Signal {
            name: signal_name(&sig),
            core_dumped,
        }),
        (Some(code), None) => Ok(ExitStatus(code)),
        (None, None) => Err(RunError::NoExitStatus),
    })
}

/// `SIGKILL`-style name of a signal reported by the server.
fn signal_name(sig: &Sig) -> String {
    let name = match sig {
        Sig::Custom(name) => return format!("SIG{name}"),
        Sig::ABRT => "ABRT",
        Sig::ALRM => "ALRM",
        Sig::FPE => "FPE",
        Sig::HUP => "HUP",
        Sig::ILL => "ILL",
        Sig::INT => "INT",
        Sig::KILL => "KILL",
        Sig::PIPE => "PIPE",
        Sig::QUIT => "QUIT",
        Sig::SEGV => "SEGV",
        Sig::TERM => "TERM",
        Sig::USR1 => "USR1",
    };
    format!("SIG{name}")
}
