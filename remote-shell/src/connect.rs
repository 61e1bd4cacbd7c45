//! Opening an authenticated [`SshSession`]: options, host-key check, authentication, and the
//! sorting of failures into retryable and final ones.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{Algorithm, HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{AlgorithmKind, Preferred};
use tracing::Instrument;

use crate::deploy_key::DeployKey;
use crate::error::RemoteError;
use crate::host_key::HostKey;
use crate::session::SshSession;

/// A password for SSH authentication. `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Wraps a password read from configuration.
    pub fn new(password: impl Into<String>) -> Self {
        Password(password.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Tried first.
    pub key: DeployKey,
    /// Tried when the server does not accept the key alone.
    pub password: Option<Password>,
    /// The keys the server may present: the one stored after the first connection (see
    /// [`SshSession::host_key`]), or those the caller learnt another way. Empty on first use,
    /// when any key is accepted and reported for the caller to store.
    pub pinned_host_keys: Vec<HostKey>,
    /// Limit for TCP connect, key exchange and authentication together.
    pub connect_timeout: Duration,
    /// How often to probe an idle connection; three unanswered probes close it.
    pub keepalive_interval: Option<Duration>,
}

impl ConnectOptions {
    /// Key authentication, no pinned key yet, 10 s connect timeout, 15 s keepalive.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        key: DeployKey,
    ) -> Self {
        ConnectOptions {
            host: host.into(),
            port,
            user: user.into(),
            key,
            password: None,
            pinned_host_keys: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            keepalive_interval: Some(Duration::from_secs(15)),
        }
    }

    /// Also tries `password` when the key alone is not accepted.
    pub fn with_password(mut self, password: Password) -> Self {
        self.password = Some(password);
        self
    }

    /// Pins the host key stored after the first connection (`None`: first use).
    pub fn with_pinned_host_key(mut self, key: Option<HostKey>) -> Self {
        self.pinned_host_keys = key.into_iter().collect();
        self
    }

    /// Accepts only these host keys (empty: first use, any key).
    pub fn with_pinned_host_keys(mut self, keys: Vec<HostKey>) -> Self {
        self.pinned_host_keys = keys;
        self
    }

    /// Sets the limit for connecting and authenticating.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub(crate) fn unreachable(&self, reason: impl fmt::Display) -> RemoteError {
        RemoteError::Unreachable {
            host: self.host.clone(),
            port: self.port,
            reason: reason.to_string(),
        }
    }

    fn protocol(&self, message: impl fmt::Display) -> RemoteError {
        RemoteError::Protocol {
            host: self.host.clone(),
            port: self.port,
            message: message.to_string(),
        }
    }
}

/// Connects once: TCP, key exchange with the host-key check, then authentication.
/// A host key other than the pinned one ends the attempt before authentication.
pub async fn connect(opts: &ConnectOptions) -> Result<SshSession, RemoteError> {
    let span =
        tracing::info_span!("ssh.connect", host = %opts.host, port = opts.port, user = %opts.user);
    async {
        match tokio::time::timeout(opts.connect_timeout, handshake(opts)).await {
            Ok(result) => result,
            Err(_) => Err(opts.unreachable(format_args!(
                "no SSH handshake within {:?}",
                opts.connect_timeout
            ))),
        }
    }
    .instrument(span)
    .await
}

async fn handshake(opts: &ConnectOptions) -> Result<SshSession, RemoteError> {
    let seen = Arc::new(Mutex::new(None));
    let handler = PinningHandler {
        pinned: opts.pinned_host_keys.clone(),
        seen: Arc::clone(&seen),
    };
    let result = client::connect(
        Arc::new(client_config(opts)),
        (opts.host.as_str(), opts.port),
        handler,
    )
    .await;
    let seen = seen
        .lock()
        .expect("host key slot")
        .take()
        .map(HostKey::from);
    let mut handle = result.map_err(|e| classify(opts, e, seen.clone()))?;
    let host_key = seen.ok_or_else(|| opts.protocol("the server presented no host key"))?;
    authenticate(&mut handle, opts).await?;
    tracing::debug!(host_key = %host_key.fingerprint(), "connected");
    Ok(SshSession::new(handle, opts, host_key))
}

fn client_config(opts: &ConnectOptions) -> client::Config {
    let mut preferred = Preferred::default();
    if !opts.pinned_host_keys.is_empty() {
        // Ask only for the pinned kinds of key, so a server that also has other kinds cannot
        // present one of those and look changed.
        let mut algorithms = Vec::new();
        for pinned in &opts.pinned_host_keys {
            for algorithm in host_key_algorithms(pinned.algorithm()) {
                if !algorithms.contains(&algorithm) {
                    algorithms.push(algorithm);
                }
            }
        }
        preferred.key = Cow::Owned(algorithms);
    }
    client::Config {
        preferred,
        keepalive_interval: opts.keepalive_interval,
        keepalive_max: 3,
        nodelay: true,
        ..client::Config::default()
    }
}

/// The negotiation names under which a server can present a key of this algorithm.
fn host_key_algorithms(algorithm: Algorithm) -> Vec<Algorithm> {
    match algorithm {
        Algorithm::Rsa { .. } => vec![
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512),
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256),
            },
        ],
        other => vec![other],
    }
}

async fn authenticate(
    handle: &mut Handle<PinningHandler>,
    opts: &ConnectOptions,
) -> Result<(), RemoteError> {
    let key = PrivateKeyWithHashAlg::new(opts.key.private_key(), None);
    let mut result = handle
        .authenticate_publickey(opts.user.as_str(), key)
        .await
        .map_err(|e| classify(opts, e, None))?;
    if !result.success()
        && let Some(password) = &opts.password
    {
        result = handle
            .authenticate_password(opts.user.as_str(), password.expose())
            .await
            .map_err(|e| classify(opts, e, None))?;
    }
    if result.success() {
        Ok(())
    } else {
        Err(RemoteError::AuthFailed {
            host: opts.host.clone(),
            port: opts.port,
            user: opts.user.clone(),
        })
    }
}

/// Sorts a russh failure: connection-level ones are [`RemoteError::Unreachable`] (retryable),
/// a rejected host key is a mismatch, the rest is final.
fn classify(opts: &ConnectOptions, err: russh::Error, seen: Option<HostKey>) -> RemoteError {
    use russh::Error as E;
    match err {
        E::UnknownKey => match seen {
            Some(seen) if !opts.pinned_host_keys.is_empty() => RemoteError::HostKeyMismatch {
                host: opts.host.clone(),
                port: opts.port,
                expected: opts.pinned_host_keys.clone(),
                seen,
            },
            _ => opts.protocol("the server's host key was rejected"),
        },
        E::NoCommonAlgo {
            kind: AlgorithmKind::Key,
            ..
        } if !opts.pinned_host_keys.is_empty() => opts.protocol(format_args!(
            "the server offers no {} host key, the kind that is pinned",
            opts.pinned_host_keys
                .iter()
                .map(|k| k.algorithm().to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        )),
        E::IO(_)
        | E::Disconnect
        | E::HUP
        | E::ConnectionTimeout
        | E::KeepaliveTimeout
        | E::InactivityTimeout
        | E::SendError
        | E::RecvError
        | E::Elapsed(_) => opts.unreachable(err),
        other => opts.protocol(other),
    }
}

/// Accepts the pinned host keys only, or any key when none is pinned; records the key seen.
pub(crate) struct PinningHandler {
    pinned: Vec<HostKey>,
    seen: Arc<Mutex<Option<PublicKey>>>,
}

impl client::Handler for PinningHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = server_key.public_key();
        let accepted =
            self.pinned.is_empty() || self.pinned.iter().any(|pinned| pinned.matches(&key));
        *self.seen.lock().expect("host key slot") = Some(key);
        Ok(accepted)
    }
}
