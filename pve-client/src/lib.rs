//! A typed Proxmox VE API client that tolerates real servers' quirks.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pve_client::PveError> {
//! use pve_client::{Auth, Trust, connect, preflight};
//! let client = connect(
//!     "192.168.1.10",
//!     8006,
//!     Auth::ApiToken { token_id: "root@pam!infrahaus".into(), secret: "…".into() },
//!     Trust::pinned("5F:40:6C:…")?,
//! )?;
//! let report = preflight(&client, None).await?;
//! println!("{report}");
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`client`]: [`PveClient`], [`ClientConfig`], [`connect`]; the single request path (auth
//!   headers, tracing span, error mapping).
//! - [`auth`]: credentials, ticket session and renewal, CSRF.
//! - [`tls`]: system-CA or pinned-fingerprint trust on the ring provider.
//! - [`error`]: [`PveError`] and the classification of answers and transport failures.
//! - [`decode`]: the envelope and tolerant serde helpers (numbers as strings, 0/1 booleans).
//! - [`form`]: form-encoded request bodies.
//! - One module per API area: [`cluster`], [`nodes`], [`storage`], [`network`], [`lxc`],
//!   [`tasks`], [`access`].
//! - [`preflight`]: the connection check and its report.
//! - [`metrics`]: request latency by endpoint, through the `metrics` facade.

pub mod access;
pub mod auth;
pub mod client;
pub mod cluster;
pub mod decode;
pub mod error;
pub mod form;
pub mod lxc;
pub mod metrics;
pub mod network;
pub mod nodes;
pub mod preflight;
pub mod storage;
pub mod tasks;
pub mod tls;

pub use auth::Auth;
pub use client::{ClientBuilder, ClientConfig, DEFAULT_PORT, DEFAULT_TIMEOUT, PveClient, connect};
pub use error::PveError;
pub use preflight::{PreflightReport, preflight};
pub use tasks::{TaskOutcome, Upid};
pub use tls::{Trust, format_fingerprint, parse_fingerprint};
