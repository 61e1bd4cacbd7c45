//! The end-to-end suite, in one binary: the whole product on loopback (server in-process, the
//! worker binary or the worker in-process, the Proxmox simulator, PostgreSQL, Redis) driven
//! through headless Chromium.

mod metrics;
mod product;
mod service_health;
mod update;
mod worker_browser;
