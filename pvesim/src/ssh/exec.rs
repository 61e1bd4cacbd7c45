//! Running a command for an SSH channel: stdin from the client, stdout and stderr streamed back
//! as they are produced (stderr as extended data), the exit code at the end.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use russh::server::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What the client sends on a channel's input side.
pub enum Input {
    Data(Vec<u8>),
    Eof,
}

/// A channel prepared for running one or more commands.
pub struct ExecIo {
    pub writer: Arc<ChannelWriteHalf<Msg>>,
    input: mpsc::UnboundedReceiver<Input>,
    input_closed: bool,
}

impl ExecIo {
    /// Starts forwarding the channel's incoming data.
    pub fn new(mut reader: ChannelReadHalf, writer: ChannelWriteHalf<Msg>) -> Self {
        let (tx, input) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(msg) = reader.wait().await {
                let forwarded = match msg {
                    ChannelMsg::Data { data } => tx.send(Input::Data(data.to_vec())),
                    ChannelMsg::Eof | ChannelMsg::Close => tx.send(Input::Eof),
                    _ => Ok(()),
                };
                if forwarded.is_err() {
                    break;
                }
            }
            let _ = tx.send(Input::Eof);
        });
        Self {
            writer: Arc::new(writer),
            input,
            input_closed: false,
        }
    }

    pub async fn stderr(&self, text: &str) {
        let _ = self
            .writer
            .extended_data_bytes(1, text.as_bytes().to_vec())
            .await;
    }

    pub async fn stdout(&self, bytes: Vec<u8>) {
        let _ = self.writer.data_bytes(bytes).await;
    }

    /// Sends the exit status and closes the channel.
    pub async fn finish(&self, code: u32) {
        let _ = self.writer.exit_status(code).await;
        let _ = self.writer.eof().await;
        let _ = self.writer.close().await;
    }
}

async fn pump<R: AsyncRead + Unpin>(
    mut from: R,
    writer: Arc<ChannelWriteHalf<Msg>>,
    ext: Option<u32>,
) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let chunk = buf[..n].to_vec();
                let sent = match ext {
                    Some(code) => writer.extended_data_bytes(code, chunk).await,
                    None => writer.data_bytes(chunk).await,
                };
                if sent.is_err() {
                    break;
                }
            }
        }
    }
}

/// Runs `cmd` with the channel as its stdio and returns its exit code (128+signal when killed).
/// `cancel` kills it (container stop).
pub async fn run(mut cmd: Command, io: &mut ExecIo, cancel: &CancellationToken) -> u32 {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            io.stderr(&format!("pvesim: cannot start sandbox: {e}\n"))
                .await;
            return 127;
        }
    };
    let out = child
        .stdout
        .take()
        .map(|s| tokio::spawn(pump(s, io.writer.clone(), None)));
    let err = child
        .stderr
        .take()
        .map(|s| tokio::spawn(pump(s, io.writer.clone(), Some(1))));
    let (stdin_tx, mut stdin_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    if let Some(mut stdin) = child.stdin.take() {
        tokio::spawn(async move {
            while let Some(chunk) = stdin_rx.recv().await {
                if stdin.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        });
    }
    let mut stdin_tx = (!io.input_closed).then_some(stdin_tx);
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            input = io.input.recv(), if stdin_tx.is_some() => match input {
                Some(Input::Data(d)) => {
                    if let Some(tx) = &stdin_tx {
                        let _ = tx.send(d);
                    }
                }
                Some(Input::Eof) | None => {
                    io.input_closed = true;
                    stdin_tx = None;
                }
            },
            _ = cancel.cancelled() => {
                let _ = child.start_kill();
                break child.wait().await;
            }
        }
    };
    for task in [out, err].into_iter().flatten() {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    match status {
        Ok(status) => status.code().map(|c| c as u32).unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(9) as u32
        }),
        Err(_) => 255,
    }
}
