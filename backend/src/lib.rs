//! Backend code that the web server and the worker share.
//!
//! # Layout
//! - [`config`]: environment variables, one small struct per concern.
//! - [`crypto`]: AES-256-GCM for secrets at rest, and the key file.
//! - [`db`]: the PostgreSQL pool, embedded migrations, [`schema`] and [`models`].
//! - [`redis`]: the shared Redis client.
//! - [`accounts`]: password hashing, sessions and login throttling.
//! - [`audit`]: who acts ([`audit::Actor`]), what they may do, and the record of what they did.
//! - [`creation`]: storing a new container and queueing its creation job.
//! - [`logging`]: the log subscriber of both binaries (`INFRAHAUS_LOG_FORMAT=json`).
//! - [`metrics`]: the Prometheus recorder, readiness checks and queue gauges.
//! - [`health`]: service-health check requests and reports between server and workers.
//! - [`services`]: node sessions and container actions for the server functions and the worker.
//!
//! # Errors
//! Model functions take a connection and return `QueryResult`; each module that can fail in its
//! own way has a `thiserror` enum; binaries turn them into `anyhow` at the edge.

pub mod accounts;
pub mod audit;
pub mod config;
pub mod creation;
pub mod crypto;
pub mod db;
pub mod events;
pub mod health;
pub mod logging;
pub mod metrics;
pub mod models;
pub mod proxmox;
pub mod queue;
pub mod redis;
pub mod schema;
pub mod services;
pub mod templates;

pub use pve_client as pve;
