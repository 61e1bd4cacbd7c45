//! The worker's SSH layer: sessions to containers and Proxmox nodes with a pinned host key,
//! commands with streamed output, file transfer over SFTP, and the same operations through
//! `pct` on the node when a container's sshd cannot be reached.
//!
//! # Layout
//! - [`deploy_key`]: the worker's ed25519 key pair, created on first start.
//! - [`host_key`]: the server key a caller pins on first use and checks afterwards.
//! - [`connect`](mod@connect), [`retry`]: opening an authenticated [`SshSession`], with
//!   backoff while a container's sshd comes up.
//! - [`session`], [`exec`], [`lines`]: running commands (the remote shell reports each
//!   command's PID first, so a timed-out command can be killed), streaming output line by line.
//! - [`quote`], [`command`]: command lines in which no argument can reach the shell unquoted.
//! - [`path`], [`sftp`], [`metadata`]: checked absolute remote paths, file transfer, and what
//!   a remote file looks like.
//! - [`target`]: [`RemoteTarget`], which deploy code is written against once, with the
//!   [`DirectSsh`] and [`PctViaNode`] transports.
//! - [`error`]: [`RemoteError`], the failures a caller can act on.
//!
//! # Host-key pinning
//! Callers store the server's key as an OpenSSH public-key line without comment
//! (`ssh-ed25519 AAAA…`, see [`HostKey::to_openssh`]). The first connection passes `None`
//! and stores [`SshSession::host_key`]; later connections pass the stored key and a different
//! key fails with [`RemoteError::HostKeyMismatch`] before authentication. A caller that learnt
//! the server's keys another way (the worker reads a container's through its Proxmox node)
//! pins all of them with [`ConnectOptions::with_pinned_host_keys`].

pub mod command;
pub mod connect;
pub mod deploy_key;
pub mod error;
pub mod exec;
pub mod host_key;
pub mod lines;
pub mod metadata;
pub mod path;
pub mod quote;
pub mod retry;
pub mod session;
pub mod sftp;
pub mod target;

pub use command::Command;
pub use connect::{ConnectOptions, Password, connect};
pub use deploy_key::DeployKey;
pub use error::RemoteError;
pub use exec::{ExecOptions, ExitStatus, Output};
pub use host_key::HostKey;
pub use lines::{OutputLine, Stream};
pub use metadata::{DirEntry, EntryKind, FileStat};
pub use path::RemotePath;
pub use quote::shell_quote;
pub use retry::{RetryPolicy, connect_with_retry};
pub use session::SshSession;
pub use sftp::Sftp;
pub use target::{AnyTarget, DirectSsh, PctViaNode, RemoteTarget};
