//! A russh client for the tests that pins the server's host key (no accept-any).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::client::{self, AuthResult, Handle};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect};

/// Accepts exactly one host key, by its SHA-256 fingerprint.
pub struct Pinned {
    fingerprint: String,
}

impl client::Handler for Pinned {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                key.fingerprint(HashAlg::Sha256).to_string() == self.fingerprint
            }
            PublicKeyOrCertificate::Certificate(_) => false,
        })
    }
}

pub enum Cred<'a> {
    Password(&'a str),
    Key(&'a Path),
}

/// Connects and authenticates as root; `Err` carries why it failed.
pub async fn connect(
    addr: SocketAddr,
    fingerprint: &str,
    cred: Cred<'_>,
) -> Result<Handle<Pinned>, String> {
    let config = Arc::new(client::Config {
        inactivity_timeout: Some(Duration::from_secs(30)),
        ..Default::default()
    });
    let mut handle = client::connect(
        config,
        addr,
        Pinned {
            fingerprint: fingerprint.to_string(),
        },
    )
    .await
    .map_err(|e| format!("connect: {e}"))?;
    let result = match cred {
        Cred::Password(p) => handle.authenticate_password("root", p).await,
        Cred::Key(path) => {
            let key = russh::keys::load_secret_key(path, None).map_err(|e| format!("key: {e}"))?;
            handle
                .authenticate_publickey("root", PrivateKeyWithHashAlg::new(Arc::new(key), None))
                .await
        }
    }
    .map_err(|e| format!("auth: {e}"))?;
    match result {
        AuthResult::Success => Ok(handle),
        AuthResult::Failure { .. } => Err("authentication rejected".into()),
    }
}

/// What a command produced.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: Option<u32>,
    /// When the first stdout bytes arrived, measured from the exec request.
    pub first_stdout_after: Option<Duration>,
    pub total: Duration,
}

impl Output {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Runs `command`, feeding `stdin` when given.
pub async fn exec(handle: &Handle<Pinned>, command: &str, stdin: Option<&[u8]>) -> Output {
    let mut channel = handle
        .channel_open_session()
        .await
        .expect("session channel");
    let started = Instant::now();
    channel.exec(true, command).await.expect("exec request");
    if let Some(input) = stdin {
        channel.data(input).await.expect("stdin");
    }
    channel.eof().await.expect("eof");
    let mut out = Output::default();
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::Data { data } => {
                out.first_stdout_after
                    .get_or_insert_with(|| started.elapsed());
                out.stdout.extend_from_slice(&data);
            }
            ChannelMsg::ExtendedData { data, ext: 1 } => out.stderr.extend_from_slice(&data),
            ChannelMsg::ExitStatus { exit_status } => out.code = Some(exit_status),
            _ => {}
        }
    }
    out.total = started.elapsed();
    out
}

/// Opens the SFTP subsystem.
pub async fn sftp(handle: &Handle<Pinned>) -> russh_sftp::client::SftpSession {
    let channel = handle
        .channel_open_session()
        .await
        .expect("session channel");
    channel
        .request_subsystem(true, "sftp")
        .await
        .expect("sftp subsystem");
    russh_sftp::client::SftpSession::new(channel.into_stream())
        .await
        .expect("sftp session")
}

pub async fn close(handle: Handle<Pinned>) {
    let _ = handle.disconnect(Disconnect::ByApplication, "", "en").await;
}
