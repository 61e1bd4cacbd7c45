//! systemd's notify protocol (`Type=notify`): `READY=1` once the worker has reached PostgreSQL
//! and Redis, `WATCHDOG=1` from the loop that renews the lease (`WatchdogSec=`), `STOPPING=1` on
//! shutdown. A datagram to `$NOTIFY_SOCKET` (a path, or an abstract name after `@`); without
//! that variable (not under systemd) nothing is sent.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

/// Where to send notifications.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    target: Target,
}

#[derive(Debug)]
enum Target {
    Path(PathBuf),
    Abstract(Vec<u8>),
}

impl Notifier {
    /// The notifier for `$NOTIFY_SOCKET`, if set.
    pub fn from_env() -> io::Result<Option<Notifier>> {
        let Some(value) = std::env::var_os("NOTIFY_SOCKET") else {
            return Ok(None);
        };
        let bytes = value.into_encoded_bytes();
        let target = match bytes.strip_prefix(b"@") {
            Some(name) => Target::Abstract(name.to_vec()),
            None => Target::Path(PathBuf::from(
                String::from_utf8(bytes).map_err(|e| io::Error::other(e.to_string()))?,
            )),
        };
        Ok(Some(Notifier {
            socket: UnixDatagram::unbound()?,
            target,
        }))
    }

    /// Sends `state` (`READY=1`, `WATCHDOG=1`, …); errors are logged, never fatal.
    pub fn notify(&self, state: &str) {
        let sent = match &self.target {
            Target::Path(path) => self.socket.send_to(state.as_bytes(), path),
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name)
                    .and_then(|addr| self.socket.send_to_addr(state.as_bytes(), &addr))
            }
        };
        if let Err(e) = sent {
            tracing::warn!(error = %e, state, "could not notify systemd");
        }
    }
}
