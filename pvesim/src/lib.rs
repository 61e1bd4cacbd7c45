//! A Proxmox VE simulator for tests and local development.
//!
//! It answers the subset of the PVE API that infrahaus uses (HTTPS, self-signed certificate,
//! PVE's envelopes, auth rules and parameter validation driven by the official schema), and the
//! containers it creates are real SSH hosts: each running container listens on a loopback
//! address, and commands run in a bubblewrap sandbox rooted in the container's directory.
//!
//! Run it in-process with [`Simulator::start`], or as the `pvesim` binary.
//!
//! # Layout
//! - [`config`]: [`SimConfig`] and its builder, credential specs.
//! - [`simulator`]: start/stop, the [`SimHandle`] tests hold.
//! - `api`: the `/api2/json` dispatcher, envelopes, one module per endpoint family.
//! - `admin`: the `/_sim/faults` endpoint for runtime fault injection ([`Faults`]) and
//!   `/_sim/requests`, the count of API requests by method and path.
//! - `auth`: users, tokens, privileges, tickets and CSRF tokens.
//! - `schema`: the embedded official schema and PVE-style parameter validation.
//! - `state`: the persisted model (containers, tasks) and UPIDs.
//! - `lifecycle`: the task workers (create, start, stop, shutdown, reboot, destroy).
//! - `sandbox`: container root directories, bubblewrap commands, stand-in tools.
//! - `ssh`: the SSH servers of containers and of the node (exec, SFTP, `pct`).
//! - `tls`: the persistent self-signed certificate and the TLS listener.
//!
//! # State directory
//! `state.json` (containers, tasks), `pve-ssl.pem`/`pve-ssl.key` (API certificate),
//! `authkey.key` (ticket signing key), `node-ssh-host-key`, `containers/<vmid>/rootfs/`
//! (container roots) and `nodes/<node>/root/` (the node's scratch filesystem). Containers that
//! were running when the simulator stopped are started again (SSH endpoints come back up) when
//! it starts with the same state directory; tasks that were still running end as
//! `unexpected status` and a container whose creation was interrupted is removed.

pub mod cli;
pub mod config;
pub mod error;
pub mod faults;
pub mod simulator;

mod admin;
mod api;
mod auth;
mod inventory;
mod lifecycle;
mod net;
mod sandbox;
mod schema;
mod sim;
mod ssh;
mod state;
mod tls;

pub use config::{IpPool, PrivSpec, SimConfig, SimConfigBuilder, TokenSpec, UserSpec};
pub use error::SimError;
pub use faults::{Faults, FaultsPatch};
pub use simulator::{SimHandle, Simulator};
