//! Integration tests against a real OpenSSH sshd that each test starts for itself.

mod connect;
mod exec;
mod file_ops;
mod pct;
mod quoting;
mod support;
