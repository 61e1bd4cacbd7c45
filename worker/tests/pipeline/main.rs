//! The worker against real PostgreSQL and Redis and the Proxmox simulator (`pvesim`, whose
//! containers are real SSH hosts). The SSH layer itself is tested against OpenSSH in
//! `remote-shell/tests/it`.

mod cancel;
mod common;
mod crash;
mod failures;
mod full;
mod identity;
mod impostor;
mod notify;
mod runner;
mod sigterm;
mod takeover;
mod update;
