//! One SSH connection to a container or to the node: auth, exec, shell, SFTP.

use std::collections::HashMap;
use std::sync::Arc;

use russh::keys::PublicKey;
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use tokio_util::sync::CancellationToken;

use super::exec::{self, ExecIo};
use super::keys::{is_authorized, parse_authorized};
use super::node;
use super::sftp::SftpSession;
use super::vfs::Vfs;
use crate::sandbox::Sandbox;
use crate::sim::Sim;

/// What a connection talks to.
#[derive(Clone)]
pub enum Target {
    Container {
        vmid: u32,
    },
    Node {
        node: String,
        authorized: Arc<Vec<PublicKey>>,
    },
}

/// The russh handler of one connection.
pub struct SshSession {
    sim: Arc<Sim>,
    target: Target,
    cancel: CancellationToken,
    channels: HashMap<ChannelId, Channel<Msg>>,
    env: HashMap<ChannelId, Vec<(String, String)>>,
}

impl SshSession {
    pub fn new(sim: Arc<Sim>, target: Target, cancel: CancellationToken) -> Self {
        Self {
            sim,
            target,
            cancel,
            channels: HashMap::new(),
            env: HashMap::new(),
        }
    }

    fn reject() -> Auth {
        Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(
                &[MethodKind::PublicKey, MethodKind::Password][..],
            )),
            partial_success: false,
        }
    }

    fn password_ok(&self, password: &str) -> bool {
        match &self.target {
            Target::Container { vmid } => self
                .sim
                .store
                .read(|s| s.containers.get(vmid).and_then(|c| c.password.clone()))
                .is_some_and(|hash| hash.matches(password)),
            Target::Node { .. } => self
                .sim
                .accounts
                .password_of("root@pam")
                .is_some_and(|p| p == password),
        }
    }

    fn key_ok(&self, key: &PublicKey) -> bool {
        match &self.target {
            // As sshd does: the container's own `/root/.ssh/authorized_keys`, read at each
            // attempt, so keys added or removed inside the container count at once.
            Target::Container { vmid } => {
                let file = self
                    .sim
                    .container_root(*vmid)
                    .join("root/.ssh/authorized_keys");
                let lines: Vec<String> = std::fs::read_to_string(file)
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_owned)
                    .collect();
                is_authorized(key, &parse_authorized(&lines))
            }
            Target::Node { authorized, .. } => is_authorized(key, authorized),
        }
    }

    /// The sandbox root and hostname of the target.
    fn root_and_hostname(&self) -> Option<(std::path::PathBuf, String)> {
        match &self.target {
            Target::Container { vmid } => {
                let name = self
                    .sim
                    .store
                    .read(|s| s.containers.get(vmid).map(|c| c.name()))?;
                Some((self.sim.container_root(*vmid), name))
            }
            Target::Node { node, .. } => Some((self.sim.node_root(node), node.clone())),
        }
    }

    fn vfs(&self) -> Option<Vfs> {
        let (root, _) = self.root_and_hostname()?;
        Some(match self.target {
            Target::Container { .. } => Vfs::container(&root),
            Target::Node { .. } => Vfs::node(&root),
        })
    }

    /// Runs `command` (or a shell reading stdin when `None`) on the channel in the background.
    fn spawn_command(
        &mut self,
        channel_id: ChannelId,
        command: Option<String>,
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        let (Some(channel), Some((root, hostname))) =
            (self.channels.remove(&channel_id), self.root_and_hostname())
        else {
            return session.channel_failure(channel_id);
        };
        session.channel_success(channel_id)?;
        let env = self.env.remove(&channel_id).unwrap_or_default();
        let (reader, writer) = channel.split();
        let mut io = ExecIo::new(reader, writer);
        let cancel = self.cancel.clone();
        let sim = self.sim.clone();
        let target = self.target.clone();
        self.sim.tracker.spawn(async move {
            let code = match (&target, command) {
                (Target::Node { node, .. }, Some(command)) => {
                    node::run(&sim, node, &command, &env, &mut io, &cancel).await
                }
                (_, command) => {
                    let argv = match command {
                        Some(c) => vec!["bash".to_string(), "-c".to_string(), c],
                        None => vec!["bash".to_string()],
                    };
                    let cmd = Sandbox {
                        root: &root,
                        hostname: &hostname,
                    }
                    .command(&argv, &env);
                    exec::run(cmd, &mut io, &cancel).await
                }
            };
            io.finish(code).await;
        });
        Ok(())
    }
}

impl russh::server::Handler for SshSession {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        Ok(if user == "root" && self.password_ok(password) {
            Auth::Accept
        } else {
            Self::reject()
        })
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(if user == "root" && self.key_ok(offer.public_key) {
            Auth::Accept
        } else {
            Self::reject()
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(if user == "root" && self.key_ok(key.public_key) {
            Auth::Accept
        } else {
            Self::reject()
        })
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if name == "LANG" || name.starts_with("LC_") {
            self.env
                .entry(channel)
                .or_default()
                .push((name.to_string(), value.to_string()));
            session.channel_success(channel)
        } else {
            session.channel_failure(channel)
        }
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let command = String::from_utf8_lossy(data).into_owned();
        tracing::debug!(?channel, %command, "exec");
        self.spawn_command(channel, Some(command), session)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.spawn_command(channel, None, session)
    }

    async fn subsystem_request(
        &mut self,
        channel_id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (Some(channel), Some(vfs), "sftp") =
            (self.channels.remove(&channel_id), self.vfs(), name)
        else {
            return session.channel_failure(channel_id);
        };
        session.channel_success(channel_id)?;
        russh_sftp::server::run(channel.into_stream(), SftpSession::new(vfs)).await;
        Ok(())
    }
}
