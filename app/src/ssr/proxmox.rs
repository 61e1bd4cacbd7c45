//! Talking to a node from a server function, through the project's Proxmox client.

use crate::error::AppError;
use domain::node::{ConnectionReport, NodeInput};

/// Connects with the given settings and reports what a container creation would find.
pub async fn connection_report(
    _input: &NodeInput,
    _secret: &str,
) -> Result<ConnectionReport, AppError> {
    Err(AppError::Unavailable(
        "The Proxmox client is not wired in yet.".into(),
    ))
}
