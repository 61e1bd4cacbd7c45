//! [`PidHeader`]: the remote shell's PID that precedes a command's stdout.

use std::borrow::Cow;

/// Reads the `PID\0` that starts stdout, passing on everything after it.
#[derive(Default)]
pub(super) struct PidHeader {
    buf: Vec<u8>,
    done: bool,
    pub(super) pid: Option<u32>,
}

impl PidHeader {
    /// Longest header accepted; anything else is output of a shell that did not print one.
    const MAX: usize = 12;

    pub(super) fn strip<'d>(&mut self, data: &'d [u8]) -> Cow<'d, [u8]> {
        if self.done {
            return Cow::Borrowed(data);
        }
        match data.iter().position(|&b| b == 0) {
            Some(nul) if self.buf.len() + nul <= Self::MAX => {
                self.buf.extend_from_slice(&data[..nul]);
                self.done = true;
                self.pid = std::str::from_utf8(&self.buf)
                    .ok()
                    .and_then(|s| s.parse().ok());
                if self.pid.is_some() {
                    Cow::Borrowed(&data[nul + 1..])
                } else {
                    let mut all = std::mem::take(&mut self.buf);
                    all.extend_from_slice(&data[nul..]);
                    Cow::Owned(all)
                }
            }
            None if self.buf.len() + data.len() <= Self::MAX => {
                self.buf.extend_from_slice(data);
                Cow::Borrowed(&[])
            }
            _ => {
                self.done = true;
                let mut all = std::mem::take(&mut self.buf);
                all.extend_from_slice(data);
                Cow::Owned(all)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PidHeader;

    #[test]
    fn pid_header_is_stripped_across_chunks() {
        let mut header = PidHeader::default();
        assert!(header.strip(b"12").is_empty());
        assert_eq!(&*header.strip(b"34\0out"), b"out");
        assert_eq!(&*header.strip(b"\0more"), b"\0more");
        assert_eq!(header.pid, Some(1234));
    }

    #[test]
    fn output_without_a_pid_header_passes_through() {
        let mut header = PidHeader::default();
        assert_eq!(
            &*header.strip(b"plain output without header"),
            b"plain output without header"
        );
        assert_eq!(header.pid, None);
        let mut header = PidHeader::default();
        assert_eq!(&*header.strip(b"motd\n1\0x"), b"motd\n1\0x");
        assert_eq!(header.pid, None);
    }
}
