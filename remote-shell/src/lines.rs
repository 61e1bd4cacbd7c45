//! Cutting a command's output into lines as it arrives: [`OutputLine`] and its splitter.

/// Longest line passed on, in bytes; the rest of a longer line is dropped.
pub const MAX_LINE_BYTES: usize = 8 * 1024;

/// Which output stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line of a command's output, without its line ending (`\n` or `\r\n`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputLine {
    pub stream: Stream,
    /// The line as UTF-8; invalid bytes become U+FFFD.
    pub text: String,
    /// The line was longer than [`MAX_LINE_BYTES`] and was cut.
    pub truncated: bool,
}

/// Turns chunks of one stream into lines, keeping a partial line until its end arrives.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    stream: Stream,
    max: usize,
    pending: Vec<u8>,
    truncated: bool,
}

impl LineSplitter {
    pub(crate) fn new(stream: Stream, max: usize) -> Self {
        LineSplitter {
            stream,
            max,
            pending: Vec::new(),
            truncated: false,
        }
    }

    /// Feeds a chunk; complete lines are appended to `out`.
    pub(crate) fn push(&mut self, mut chunk: &[u8], out: &mut Vec<OutputLine>) {
        while !chunk.is_empty() {
            let (part, newline) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], true),
                None => (chunk, false),
            };
            self.keep(part);
            if newline {
                if self.pending.last() == Some(&b'\r') {
                    self.pending.pop();
                }
                out.push(self.take());
                chunk = &chunk[part.len() + 1..];
            } else {
                chunk = &[];
            }
        }
    }

    /// The last line, if the output did not end with a line ending.
    pub(crate) fn finish(&mut self) -> Option<OutputLine> {
        (!self.pending.is_empty() || self.truncated).then(|| self.take())
    }

    fn keep(&mut self, part: &[u8]) {
        // One byte more than the limit is kept, so that a `\r` before `\n` is still seen.
        let room = (self.max + 1).saturating_sub(self.pending.len());
        if part.len() > room {
            self.truncated = true;
        }
        self.pending
            .extend_from_slice(&part[..part.len().min(room)]);
    }

    fn take(&mut self) -> OutputLine {
        let mut bytes = std::mem::take(&mut self.pending);
        let mut truncated = std::mem::take(&mut self.truncated);
        if bytes.len() > self.max {
            bytes.truncate(self.max);
            truncated = true;
        }
        if truncated {
            // Do not end a cut line in half a character.
            if let Err(e) = std::str::from_utf8(&bytes)
                && e.error_len().is_none()
            {
                bytes.truncate(e.valid_up_to());
            }
        }
        OutputLine {
            stream: self.stream,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{LineSplitter, OutputLine, Stream};

    fn split(chunks: &[&[u8]], max: usize) -> Vec<(String, bool)> {
        let mut splitter = LineSplitter::new(Stream::Stdout, max);
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, &mut out);
        }
        out.extend(splitter.finish());
        out.into_iter()
            .map(
                |OutputLine {
                     text, truncated, ..
                 }| (text, truncated),
            )
            .collect()
    }

    fn plain(lines: &[&str]) -> Vec<(String, bool)> {
        lines.iter().map(|l| (l.to_string(), false)).collect()
    }

    #[test]
    fn joins_partial_lines_across_chunks() {
        assert_eq!(split(&[b"ab", b"c\nd", b"e\n"], 100), plain(&["abc", "de"]));
    }

    #[test]
    fn strips_crlf_even_when_split() {
        assert_eq!(split(&[b"a\r", b"\nb\r\n"], 100), plain(&["a", "b"]));
        assert_eq!(split(&[b"a\rb\n"], 100), plain(&["a\rb"]));
    }

    #[test]
    fn keeps_a_last_line_without_newline_and_empty_lines() {
        assert_eq!(split(&[b"\n\nx"], 100), plain(&["", "", "x"]));
        assert_eq!(split(&[b""], 100), plain(&[]));
    }

    #[test]
    fn cuts_long_lines_and_resumes_after_the_newline() {
        let long = vec![b'x'; 10];
        let lines = split(&[&long, &long, b"\r\nok\n"], 4);
        assert_eq!(lines, vec![("xxxx".into(), true), ("ok".into(), false)]);
        let exact = split(&[b"xxxx\r\n"], 4);
        assert_eq!(exact, plain(&["xxxx"]));
    }

    #[test]
    fn does_not_cut_inside_a_character() {
        let lines = split(&["aé".as_bytes(), b"zz\n"], 2);
        assert_eq!(lines, vec![("a".into(), true)]);
    }
}
