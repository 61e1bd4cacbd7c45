//! Containers: the list, one container's page, and the live progress page.

pub mod detail;
pub mod list;
pub mod progress;
