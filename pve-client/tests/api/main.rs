//! Integration tests against a local HTTPS stand-in for pveproxy (one test binary).

mod auth;
mod common;
mod errors;
mod fixtures;
mod lxc;
mod preflight;
mod tasks;
mod tls;
