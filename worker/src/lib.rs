//! The infrahaus worker: takes container-creation jobs off the Redis queue and runs the
//! five-phase pipeline against the Proxmox API and over SSH.
//!
//! # Layout
//! - [`config`]: environment variables.
//! - [`runner`]: [`Runner`], generic over a [`JobHandler`]: concurrency, heartbeats, taking
//!   over jobs of dead workers, graceful shutdown.
//! - [`pipeline`]: [`Pipeline`], the handler that creates, starts, deploys, syncs and
//!   finalizes a container, checkpointing each step.
//! - [`health`]: service-health checks of ready containers, asked for through Redis.
//! - [`metrics`]: the `/metrics` and `/ready` listener and what the worker records.
//! - [`serve`]: wiring for the binary (connections, deploy key, signals); [`notify`]: systemd's
//!   readiness and watchdog notifications.

pub mod config;
pub mod health;
pub mod metrics;
pub mod notify;
pub mod pipeline;
pub mod runner;
pub mod serve;

pub use pipeline::{Pipeline, PipelineSettings};
pub use runner::{JobHandler, JobOutcome, JobRun, RunReport, Runner, RunnerConfig, StopSignal};
