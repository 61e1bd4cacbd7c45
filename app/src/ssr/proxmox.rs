//! Talking to a node from a server function, through the project's Proxmox client.

use crate::error::AppError;
use domain::node::{ConnectionReport, NodeInput};

/// Connects with the given settings and reports what a container creation would find.
pub async fn connection_report(
    input: &NodeInput,
    secret: &str,
) -> Result<ConnectionReport, AppError> {
    let client =
        backend::proxmox::client_for(&input.host, input.port, &input.token_id, secret, &input.tls)
            .map_err(unavailable)?;
    let report = pve_client::preflight(&client, None)
        .await
        .map_err(unavailable)?;
    Ok(backend::proxmox::connection_report(&report))
}

/// A Proxmox error as the user sees it: the client's messages are written to be acted on.
pub fn unavailable(err: pve_client::PveError) -> AppError {
    tracing::info!(error = %err, "Proxmox call failed");
    AppError::Unavailable(err.to_string())
}
