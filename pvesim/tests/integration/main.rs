//! Integration tests of the simulator, in one test binary.
//!
//! They need `bwrap` (Debian package `bubblewrap`) and OpenSSH's `ssh` and `ssh-keygen`
//! (`openssh-client`); without them the tests fail with a message saying so.

mod cli;
mod client_cycle;
mod common;
mod envelopes;
mod fixtures;
mod persistence;
mod power;
mod sandbox;
mod schema_conformance;
mod ssh;
mod sshc;
mod tasks;
