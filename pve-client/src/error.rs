//! Errors a homelab user can act on.
//!
//! Every failure of a PVE call ends up as one [`PveError`] variant: HTTP answers are classified by
//! status and message text (PVE has few distinct status codes), transport failures by walking the
//! error's source chain down to the I/O or TLS cause.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use crate::tls::{PinMismatch, format_fingerprint};

/// Everything that can go wrong talking to Proxmox VE.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PveError {
    /// 401: the token, password or ticket was not accepted (includes the empty-body 401s).
    #[error(
        "Proxmox rejected the credentials ({message}). Check the API token ID and secret, or the \
         username (user@realm) and password, in the settings."
    )]
    AuthFailed { message: String },

    /// The account needs a login flow this client does not do (a second factor).
    #[error(
        "This account needs {reason}, which infrahaus cannot do. Use an API token instead \
         (Datacenter > Permissions > API Tokens)."
    )]
    UnsupportedAuth { reason: String },

    /// 403: the credentials lack a privilege; `path` and `privilege` come from the message.
    #[error("{}", permission_text(path.as_deref(), privilege.as_deref(), message))]
    PermissionDenied {
        path: Option<String>,
        privilege: Option<String>,
        message: String,
    },

    /// 400: PVE rejected parameters; `errors` maps each parameter to its complaint.
    #[error("Proxmox rejected the request: {}", parameter_text(message, errors))]
    InvalidParameters {
        message: String,
        errors: BTreeMap<String, String>,
    },

    /// The VMID is already used by a container or VM.
    #[error(
        "ID {vmid} is already used by a {kind} on node '{node}'. Pick another ID or remove the \
         existing guest."
    )]
    AlreadyExists {
        kind: String,
        vmid: u32,
        node: String,
    },

    /// A container, node or task does not exist.
    #[error("{what} does not exist on the Proxmox server ({message}).")]
    NotFound { what: String, message: String },

    /// 501: this PVE version lacks the API call.
    #[error(
        "This Proxmox VE version does not offer this API call ({message}). Updating Proxmox VE \
         may help."
    )]
    NotImplemented { message: String },

    /// 595/596: the node we talked to could not reach the node that owns the resource.
    #[error(
        "The Proxmox node could not reach the cluster node that owns this resource (HTTP \
         {status}: {message}). Check that every cluster node is online."
    )]
    NodeUnreachable { status: u16, message: String },

    /// Any other error answer.
    #[error("Proxmox answered HTTP {status}: {message}")]
    Api { status: u16, message: String },

    /// The server's certificate does not match the pinned fingerprint.
    #[error(
        "The server at {host}:{port} presented a certificate with SHA-256 fingerprint {seen}, \
         but the pinned fingerprint is {expected}. If you renewed the Proxmox certificate, pin \
         the new fingerprint (Node > System > Certificates); otherwise someone may be \
         intercepting the connection."
    )]
    PinMismatch {
        host: String,
        port: u16,
        expected: String,
        seen: String,
    },

    /// The TLS handshake failed for another reason (e.g. a self-signed cert in system-CA mode).
    #[error(
        "Could not establish a trusted TLS connection to {host}:{port}: {reason}. A default \
         Proxmox install uses a self-signed certificate: pin its SHA-256 fingerprint in the \
         settings, or install a certificate from a trusted CA on the node."
    )]
    Tls {
        host: String,
        port: u16,
        reason: String,
    },

    /// The host name did not resolve.
    #[error(
        "The host name '{host}' could not be resolved. Check the spelling or use the IP address."
    )]
    Dns { host: String },

    /// Nothing listens on the port.
    #[error(
        "Connection to {host}:{port} was refused. Check the address and port (Proxmox listens \
         on 8006) and that pveproxy is running."
    )]
    ConnectionRefused { host: String, port: u16 },

    /// Other connection failures (no route, reset, ...).
    #[error("Could not connect to {host}:{port}: {reason}. Check the address and the network.")]
    Connect {
        host: String,
        port: u16,
        reason: String,
    },

    /// The request took longer than the configured timeout.
    #[error(
        "Proxmox at {host}:{port} did not answer within {} seconds. Check that the host is \
         reachable and not overloaded.", after.as_secs_f32()
    )]
    Timeout {
        host: String,
        port: u16,
        after: Duration,
    },

    /// The answer was not what the PVE API returns for this call.
    #[error(
        "Proxmox sent an answer infrahaus could not read ({message}). Is this a Proxmox VE server?"
    )]
    Decode { message: String },

    /// A PVE task ended with an error.
    #[error(
        "The Proxmox task {upid} failed: {exit_status}{}",
        log_tail_text(log_tail)
    )]
    TaskFailed {
        upid: String,
        exit_status: String,
        log_tail: Vec<String>,
    },

    /// A PVE task did not finish within the wait limit.
    #[error(
        "The Proxmox task {upid} did not finish within {} seconds; it may still be running \
         (see the node's task log).", waited.as_secs()
    )]
    TaskTimeout {
        upid: String,
        waited: Duration,
        log_tail: Vec<String>,
    },

    /// The client configuration is unusable (bad fingerprint text, bad host, ...).
    #[error("The Proxmox connection settings are invalid: {0}")]
    InvalidConfig(String),

    /// Another HTTP-level failure.
    #[error("The request to Proxmox failed: {0}")]
    Http(String),
}

fn permission_text(path: Option<&str>, privilege: Option<&str>, message: &str) -> String {
    match (path, privilege) {
        (Some(path), Some(privilege)) => format!(
            "Permission denied: the credentials lack '{privilege}' on '{path}'. Grant it in \
             Datacenter > Permissions (for a privilege-separated API token, grant it to the token \
             too)."
        ),
        _ => format!(
            "Permission denied ({message}). Grant the needed role in Datacenter > Permissions."
        ),
    }
}

fn parameter_text(message: &str, errors: &BTreeMap<String, String>) -> String {
    if errors.is_empty() {
        return message.to_owned();
    }
    errors
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn log_tail_text(tail: &[String]) -> String {
    match tail.iter().rev().find(|l| !l.trim().is_empty()) {
        Some(last) if !last.starts_with("TASK ERROR") => format!(" (last log line: {last})"),
        _ => String::new(),
    }
}

/// An error answer as read from the wire, before classification.
#[derive(Debug, Clone)]
pub(crate) struct ApiFailure {
    pub status: u16,
    pub message: String,
    pub errors: BTreeMap<String, String>,
}

static PERM_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Permission check failed \((/[^,)]*), ([^)]+)\)").expect("valid regex")
});
static EXISTS_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(CT|VM) (\d+) already exists on node '([^']*)'").expect("valid regex")
});
static NO_CONFIG_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Configuration file 'nodes/([^/']+)/(lxc|qemu-server)/(\d+)\.conf' does not exist")
        .expect("valid regex")
});
static NO_NODE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^hostname lookup '([^']*)' failed").expect("valid regex"));

impl PveError {
    /// Classifies an error answer by status and message text.
    pub(crate) fn from_api_failure(failure: ApiFailure) -> Self {
        let ApiFailure {
            status,
            message,
            errors,
        } = failure;
        let message = if message.is_empty() {
            format!("HTTP {status}")
        } else {
            message
        };
        match status {
            401 => PveError::AuthFailed { message },
            403 => {
                let caps = PERM_RE.captures(&message);
                PveError::PermissionDenied {
                    path: caps.as_ref().map(|c| c[1].to_owned()),
                    privilege: caps.as_ref().map(|c| c[2].to_owned()),
                    message,
                }
            }
            400 if !errors.is_empty() => PveError::InvalidParameters { message, errors },
            501 => PveError::NotImplemented { message },
            595 | 596 => PveError::NodeUnreachable { status, message },
            _ => classify_message(status, message, errors),
        }
    }

    /// True for errors that mean "the credentials were not accepted".
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, PveError::AuthFailed { .. })
    }
}

fn classify_message(status: u16, message: String, errors: BTreeMap<String, String>) -> PveError {
    if let Some(c) = EXISTS_RE.captures(&message)
        && let Ok(vmid) = c[2].parse()
    {
        let kind = if &c[1] == "CT" { "container" } else { "VM" };
        return PveError::AlreadyExists {
            kind: kind.into(),
            vmid,
            node: c[3].to_owned(),
        };
    }
    if let Some(c) = NO_CONFIG_RE.captures(&message) {
        let kind = if &c[2] == "lxc" { "Container" } else { "VM" };
        let what = format!("{kind} {} on node '{}'", &c[3], &c[1]);
        return PveError::NotFound { what, message };
    }
    if let Some(c) = NO_NODE_RE.captures(&message) {
        let what = format!("Node '{}'", &c[1]);
        return PveError::NotFound { what, message };
    }
    if status == 400 && !errors.is_empty() {
        return PveError::InvalidParameters { message, errors };
    }
    PveError::Api { status, message }
}

/// Where a request went, for transport error texts.
pub(crate) struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
    pub timeout: Duration,
}

/// Classifies a reqwest transport failure by walking its source chain.
pub(crate) fn from_transport(err: reqwest::Error, target: &Target<'_>) -> PveError {
    let host = target.host.to_owned();
    let port = target.port;
    if err.is_timeout() {
        return PveError::Timeout {
            host,
            port,
            after: target.timeout,
        };
    }
    let mut io_kind = None;
    let mut rustls_reason = None;
    let mut dns = false;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cur {
        if let Some(pin) = e.downcast_ref::<PinMismatch>() {
            return PveError::PinMismatch {
                host,
                port,
                expected: format_fingerprint(&pin.expected),
                seen: format_fingerprint(&pin.seen),
            };
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            if let Some(pin) = pin_from_rustls(tls) {
                return PveError::PinMismatch {
                    host,
                    port,
                    expected: format_fingerprint(&pin.expected),
                    seen: format_fingerprint(&pin.seen),
                };
            }
            rustls_reason.get_or_insert_with(|| rustls_text(tls));
        }
        if e.to_string().starts_with("dns error") {
            dns = true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
            // `io::Error::source` skips the wrapped error itself; step into it by hand.
            if let Some(inner) = io.get_ref() {
                cur = Some(inner);
                continue;
            }
        }
        cur = e.source();
    }
    if let Some(reason) = rustls_reason {
        return PveError::Tls { host, port, reason };
    }
    if dns {
        return PveError::Dns { host };
    }
    match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => PveError::ConnectionRefused { host, port },
        Some(std::io::ErrorKind::TimedOut) => PveError::Timeout {
            host,
            port,
            after: target.timeout,
        },
        _ if err.is_connect() => PveError::Connect {
            host,
            port,
            reason: innermost_text(&err),
        },
        _ => PveError::Http(innermost_text(&err)),
    }
}

fn pin_from_rustls(err: &rustls::Error) -> Option<&PinMismatch> {
    match err {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
            other.0.downcast_ref::<PinMismatch>()
        }
        _ => None,
    }
}

fn rustls_text(err: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "the certificate is not signed by a CA in the system trust store".into()
        }
        rustls::Error::InvalidCertificate(C::NotValidForName)
        | rustls::Error::InvalidCertificate(C::NotValidForNameContext { .. }) => {
            "the certificate is not valid for this host name".into()
        }
        rustls::Error::InvalidCertificate(C::Expired)
        | rustls::Error::InvalidCertificate(C::ExpiredContext { .. }) => {
            "the certificate has expired".into()
        }
        other => other.to_string(),
    }
}

fn innermost_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        last = e.to_string();
        cur = e.source();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, message: &str) -> PveError {
        PveError::from_api_failure(ApiFailure {
            status,
            message: message.into(),
            errors: BTreeMap::new(),
        })
    }

    #[test]
    fn permission_message_yields_path_and_privilege() {
        let err = classify(
            403,
            "Permission check failed (/storage/local, Datastore.AllocateSpace|Datastore.Audit)",
        );
        match &err {
            PveError::PermissionDenied {
                path, privilege, ..
            } => {
                assert_eq!(path.as_deref(), Some("/storage/local"));
                assert_eq!(
                    privilege.as_deref(),
                    Some("Datastore.AllocateSpace|Datastore.Audit")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string()
                .contains("'Datastore.AllocateSpace|Datastore.Audit' on '/storage/local'")
        );
    }

    #[test]
    fn ct_exists_inside_a_longer_message() {
        let err = classify(
            500,
            "unable to create CT 100 - CT 100 already exists on node 'pve'",
        );
        assert!(
            matches!(err, PveError::AlreadyExists { vmid: 100, ref node, ref kind } if node == "pve" && kind == "container")
        );
        let err = classify(500, "VM 101 already exists on node 'n2'");
        assert!(matches!(err, PveError::AlreadyExists { vmid: 101, ref kind, .. } if kind == "VM"));
    }

    #[test]
    fn other_500s_stay_generic() {
        let err = classify(500, "CT 100 already running");
        assert!(matches!(err, PveError::Api { status: 500, .. }));
        assert_eq!(
            err.to_string(),
            "Proxmox answered HTTP 500: CT 100 already running"
        );
    }

    #[test]
    fn empty_message_names_the_status() {
        assert!(
            matches!(classify(500, ""), PveError::Api { ref message, .. } if message == "HTTP 500")
        );
    }
}
