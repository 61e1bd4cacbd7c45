//! [`connect_with_retry`]: connecting while a container's sshd is still coming up.

use std::time::Duration;

use crate::connect::{ConnectOptions, connect};
use crate::error::RemoteError;
use crate::session::SshSession;

/// The waits between connection attempts; one attempt more than there are delays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    delays: Vec<Duration>,
}

impl RetryPolicy {
    /// `retries` waits, starting at `first` and doubling each time.
    pub fn exponential(first: Duration, retries: u32) -> Self {
        RetryPolicy {
            delays: (0..retries).map(|i| first * 2u32.pow(i)).collect(),
        }
    }

    /// Exactly these waits, e.g. milliseconds in tests.
    pub fn from_delays(delays: Vec<Duration>) -> Self {
        RetryPolicy { delays }
    }

    /// A single attempt.
    pub fn none() -> Self {
        RetryPolicy { delays: Vec::new() }
    }

    /// The waits, in order.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }
}

impl Default for RetryPolicy {
    /// 2, 4, 8, 16, 32 seconds: about a minute for a fresh container's sshd.
    fn default() -> Self {
        RetryPolicy::exponential(Duration::from_secs(2), 5)
    }
}

/// [`connect`], repeated after each delay of `policy` while the failure is connection-level
/// ([`RemoteError::is_retryable`]). Authentication failures and host-key mismatches are
/// returned at once.
pub async fn connect_with_retry(
    opts: &ConnectOptions,
    policy: &RetryPolicy,
) -> Result<SshSession, RemoteError> {
    let mut delays = policy.delays().iter();
    let mut attempt = 1;
    loop {
        match connect(opts).await {
            Ok(session) => return Ok(session),
            Err(err) if err.is_retryable() => match delays.next() {
                Some(delay) => {
                    metrics::counter!("infrahaus_ssh_connect_retries_total").increment(1);
                    tracing::info!(host = %opts.host, port = opts.port, attempt, ?delay, error = %err, "SSH not reachable yet, retrying");
                    tokio::time::sleep(*delay).await;
                    attempt += 1;
                }
                None => return Err(err),
            },
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::RetryPolicy;

    #[test]
    fn default_doubles_from_two_seconds() {
        let secs: Vec<u64> = RetryPolicy::default()
            .delays()
            .iter()
            .map(Duration::as_secs)
            .collect();
        assert_eq!(secs, [2, 4, 8, 16, 32]);
    }
}
