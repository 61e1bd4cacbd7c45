//! [`SshSession`]: one authenticated connection, shared by cheap clones.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use russh::Disconnect;
use russh::client::Handle;
use tokio::sync::{OnceCell, mpsc};
use tracing::Instrument;

use crate::command::Command;
use crate::connect::{ConnectOptions, PinningHandler};
use crate::error::RemoteError;
use crate::exec::{self, ExecOptions, ExitStatus, Launch, Output, RunError, Sink};
use crate::host_key::HostKey;
use crate::lines::OutputLine;
use crate::sftp::Sftp;

/// An authenticated SSH connection. Clones share it; it closes when the last one is dropped.
/// Commands may run concurrently, each on its own channel.
#[derive(Clone)]
pub struct SshSession(Arc<Inner>);

struct Inner {
    handle: Handle<PinningHandler>,
    host: String,
    port: u16,
    user: String,
    host_key: HostKey,
    sftp: OnceCell<Sftp>,
}

impl SshSession {
    pub(crate) fn new(
        handle: Handle<PinningHandler>,
        opts: &ConnectOptions,
        host_key: HostKey,
    ) -> Self {
        SshSession(Arc::new(Inner {
            handle,
            host: opts.host.clone(),
            port: opts.port,
            user: opts.user.clone(),
            host_key,
            sftp: OnceCell::new(),
        }))
    }

    /// The host name or address connected to.
    pub fn host(&self) -> &str {
        &self.0.host
    }

    /// The port connected to.
    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// The user logged in as.
    pub fn user(&self) -> &str {
        &self.0.user
    }

    /// The key the server presented. On first use, store
    /// [`to_openssh`](HostKey::to_openssh) of it and pin it on later connections.
    pub fn host_key(&self) -> &HostKey {
        &self.0.host_key
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.0.handle.is_closed()
    }

    /// Runs `cmd`, sending each line of its stdout and stderr to `lines` as it is produced,
    /// and returns its exit status. A non-zero status is not an error; a signal is.
    pub async fn exec(
        &self,
        cmd: &Command,
        opts: &ExecOptions,
        lines: &mpsc::Sender<OutputLine>,
    ) -> Result<ExitStatus, RemoteError> {
        let mut sink = Sink::lines(lines);
        self.run(cmd, cmd.program(), Launch::Replace, opts, &mut sink)
            .await
    }

    /// Runs `cmd` and returns its status and output, each stream cut at
    /// [`ExecOptions::output_limit`].
    pub async fn exec_capture(
        &self,
        cmd: &Command,
        opts: &ExecOptions,
    ) -> Result<Output, RemoteError> {
        let mut sink = Sink::capture(opts.output_limit);
        let status = self
            .run(cmd, cmd.program(), Launch::Replace, opts, &mut sink)
            .await?;
        Ok(sink.into_output(status, cmd.program()))
    }

    /// [`exec`](Self::exec) for wrappers such as `pct`: the command runs as a child of the
    /// remote shell (see [`Launch::Child`]), and logs and errors name `program`, since the
    /// wrapper's own name says little.
    pub(crate) async fn exec_as(
        &self,
        cmd: &Command,
        program: &str,
        opts: &ExecOptions,
        lines: &mpsc::Sender<OutputLine>,
    ) -> Result<ExitStatus, RemoteError> {
        self.run(cmd, program, Launch::Child, opts, &mut Sink::lines(lines))
            .await
    }

    /// [`exec_capture`](Self::exec_capture) under another program name, as [`exec_as`](Self::exec_as).
    pub(crate) async fn exec_capture_as(
        &self,
        cmd: &Command,
        program: &str,
        opts: &ExecOptions,
    ) -> Result<Output, RemoteError> {
        let mut sink = Sink::capture(opts.output_limit);
        let status = self
            .run(cmd, program, Launch::Child, opts, &mut sink)
            .await?;
        Ok(sink.into_output(status, program))
    }

    /// The connection's SFTP session, opened on first use.
    pub async fn sftp(&self) -> Result<&Sftp, RemoteError> {
        self.0
            .sftp
            .get_or_try_init(|| Sftp::open(&self.0.handle, &self.0.host, self.0.port))
            .await
    }

    /// Ends the connection politely; dropping the last clone ends it too.
    pub async fn close(&self) -> Result<(), RemoteError> {
        self.0
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await
            .map_err(|e| self.protocol(e))
    }

    async fn run(
        &self,
        cmd: &Command,
        program: &str,
        launch: Launch,
        opts: &ExecOptions,
        sink: &mut Sink<'_>,
    ) -> Result<ExitStatus, RemoteError> {
        let line = cmd.to_command_line()?;
        let span =
            tracing::info_span!("ssh.exec", host = %self.0.host, port = self.0.port, program);
        async {
            let channel = self
                .0
                .handle
                .channel_open_session()
                .await
                .map_err(|e| self.protocol(e))?;
            let owned = || program.to_owned();
            let result = exec::run(channel, &line, launch, opts.timeout, sink)
                .await
                .map_err(|e| self.protocol(e))?;
            match result {
                Ok(status) => {
                    tracing::debug!(code = status.code(), "command finished");
                    Ok(status)
                }
                Err(RunError::TimedOut { pid }) => {
                    tracing::warn!(timeout = ?opts.timeout, "command timed out, killing it");
                    if let Some(pid) = pid.filter(|&pid| pid > 1) {
                        self.kill_process_group(pid).await;
                    }
                    Err(RemoteError::CommandTimedOut {
                        program: owned(),
                        timeout: opts.timeout,
                    })
                }
                Err(RunError::Signal { name, core_dumped }) => Err(RemoteError::KilledBySignal {
                    program: owned(),
                    signal: name,
                    core_dumped,
                }),
                Err(RunError::NoExitStatus) if self.is_closed() => {
                    Err(self.protocol(format_args!("connection lost while `{program}` ran")))
                }
                Err(RunError::NoExitStatus) => Err(RemoteError::NoExitStatus { program: owned() }),
                Err(RunError::Refused) => {
                    Err(self.protocol("the server refused to run the command"))
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Sends SIGKILL to process group `pid` (a timed-out command), on a channel of its own.
    async fn kill_process_group(&self, pid: u32) {
        let kill = Command::sh(r#"kill -s KILL -- "-$1" 2>/dev/null || kill -s KILL "$1""#)
            .arg(pid.to_string());
        let opts = ExecOptions {
            timeout: Duration::from_secs(10),
            output_limit: 4096,
        };
        let mut sink = Sink::capture(opts.output_limit);
        let killed = async {
            let channel = self.0.handle.channel_open_session().await?;
            let line = kill.to_command_line().expect("no NUL in a number");
            exec::run(channel, &line, Launch::Replace, opts.timeout, &mut sink).await
        };
        if !matches!(killed.await, Ok(Ok(status)) if status.success()) {
            tracing::warn!(pid, "could not kill the timed-out command");
        }
    }

    fn protocol(&self, message: impl fmt::Display) -> RemoteError {
        RemoteError::Protocol {
            host: self.0.host.clone(),
            port: self.0.port,
            message: message.to_string(),
        }
    }
}

impl fmt::Debug for SshSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SshSession({}@{}:{})",
            self.0.user, self.0.host, self.0.port
        )
    }
}
