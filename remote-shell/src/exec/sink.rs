//! [`Sink`]: where the read loop puts a command's output.

use tokio::sync::mpsc;

use super::{ExitStatus, Output};
use crate::lines::{LineSplitter, MAX_LINE_BYTES, OutputLine, Stream};

/// Where the read loop sends output: lines to a channel, bytes to buffers, or both.
pub(crate) struct Sink<'a> {
    lines: Option<(&'a mpsc::Sender<OutputLine>, [LineSplitter; 2])>,
    capture: Option<Capture>,
}

struct Capture {
    limit: usize,
    buffers: [Vec<u8>; 2],
    truncated: [bool; 2],
}

impl<'a> Sink<'a> {
    /// Sends each complete line to `tx` as it arrives. A closed receiver is not an error:
    /// the command still runs to the end.
    pub(crate) fn lines(tx: &'a mpsc::Sender<OutputLine>) -> Self {
        let splitters = [
            LineSplitter::new(Stream::Stdout, MAX_LINE_BYTES),
            LineSplitter::new(Stream::Stderr, MAX_LINE_BYTES),
        ];
        Sink {
            lines: Some((tx, splitters)),
            capture: None,
        }
    }

    /// Keeps up to `limit` bytes of each stream.
    pub(crate) fn capture(limit: usize) -> Self {
        Sink {
            lines: None,
            capture: Some(Capture {
                limit,
                buffers: [Vec::new(), Vec::new()],
                truncated: [false, false],
            }),
        }
    }

    pub(super) async fn push(&mut self, stream: Stream, data: &[u8]) {
        let i = stream as usize;
        if let Some(capture) = &mut self.capture {
            let room = capture.limit.saturating_sub(capture.buffers[i].len());
            capture.truncated[i] |= data.len() > room;
            capture.buffers[i].extend_from_slice(&data[..data.len().min(room)]);
        }
        if let Some((tx, splitters)) = &mut self.lines {
            let mut out = Vec::new();
            splitters[i].push(data, &mut out);
            for line in out {
                let _ = tx.send(line).await;
            }
        }
    }

    pub(super) async fn finish(&mut self) {
        if let Some((tx, splitters)) = &mut self.lines {
            for splitter in splitters {
                if let Some(line) = splitter.finish() {
                    let _ = tx.send(line).await;
                }
            }
        }
    }

    pub(crate) fn into_output(self, status: ExitStatus, program: &str) -> Output {
        let Capture {
            buffers: [stdout, stderr],
            truncated: [stdout_truncated, stderr_truncated],
            ..
        } = self
            .capture
            .expect("into_output is only called on a capturing sink");
        Output {
            status,
            stdout,
            stderr,
            stdout_truncated,
            stderr_truncated,
            program: program.to_owned(),
        }
    }
}
