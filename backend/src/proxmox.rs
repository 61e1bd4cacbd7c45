//! Building a Proxmox client for a stored or typed-in node.

use crate::crypto::{CryptoError, Purpose, SecretBox};
use crate::models::NodeRow;
use domain::node::{ConnectionReport, TlsTrust};
use pve_client::{Auth, PreflightReport, PveClient, PveError, Trust};

/// Why a client for a node could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NodeClientError {
    #[error(transparent)]
    Pve(#[from] PveError),
    #[error(transparent)]
    Secret(#[from] CryptoError),
}

/// A client for a node given its settings and plain token secret.
pub fn client_for(
    host: &str,
    port: u16,
    token_id: &str,
    secret: &str,
    tls: &TlsTrust,
) -> Result<PveClient, PveError> {
    let trust = match tls {
        TlsTrust::SystemCa => Trust::SystemCa,
        TlsTrust::Fingerprint(fp) => Trust::pinned(fp)?,
    };
    let auth = Auth::ApiToken {
        token_id: token_id.to_owned(),
        secret: secret.to_owned(),
    };
    pve_client::connect(host, port, auth, trust)
}

/// A client for a stored node, opening its sealed token secret.
pub fn client_for_row(row: &NodeRow, secrets: &SecretBox) -> Result<PveClient, NodeClientError> {
    let secret = secrets.open_str(Purpose::NodeTokenSecret, &row.token_secret_enc)?;
    let port = u16::try_from(row.port).unwrap_or(pve_client::DEFAULT_PORT);
    Ok(client_for(
        &row.host,
        port,
        &row.token_id,
        &secret,
        &row.tls(),
    )?)
}

/// The preflight findings in the shape the settings page shows.
pub fn connection_report(report: &PreflightReport) -> ConnectionReport {
    ConnectionReport {
        version: report.pve_version.clone(),
        nodes: report.nodes.iter().map(|n| n.name.clone()).collect(),
        node: report.node.clone(),
        rootdir_storages: report
            .rootdir_storages
            .iter()
            .map(|s| s.name.clone())
            .collect(),
        os_templates: report.templates.iter().map(|t| t.volid.clone()).collect(),
        bridges: report.bridges.iter().map(|b| b.name.clone()).collect(),
        next_vmid: report.next_vmid,
        missing_privileges: report
            .missing_privileges()
            .iter()
            .map(|c| format!("{} on {}", c.privilege, c.path))
            .collect(),
        problems: report.blockers(),
    }
}
