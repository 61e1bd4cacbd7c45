//! How the client decides to trust the server's certificate.
//!
//! Either the system CA store (rustls-platform-verifier) or exactly one pinned SHA-256
//! fingerprint of the end-entity certificate, the value PVE shows under Node > System >
//! Certificates. There is deliberately no "accept anything" mode. Both run on the ring provider.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::PveError;

/// Which certificates the client accepts.
#[derive(Clone, PartialEq, Eq)]
pub enum Trust {
    /// Certificates that chain to the operating system's CA store and match the host name.
    SystemCa,
    /// Exactly the certificate whose DER encoding has this SHA-256 digest.
    PinnedSha256([u8; 32]),
}

impl Trust {
    /// Pins the fingerprint given as text (`AA:BB:...`, as PVE displays it).
    pub fn pinned(fingerprint: &str) -> Result<Self, PveError> {
        parse_fingerprint(fingerprint).map(Trust::PinnedSha256)
    }
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trust::SystemCa => f.write_str("SystemCa"),
            Trust::PinnedSha256(fp) => write!(f, "PinnedSha256({})", format_fingerprint(fp)),
        }
    }
}

/// Parses a SHA-256 fingerprint: 32 hex bytes, separated by `:` (or not), any case.
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], PveError> {
    let text = text.trim();
    let text = text
        .strip_prefix("sha256:")
        .or_else(|| text.strip_prefix("SHA256:"))
        .unwrap_or(text);
    let hex_digits: String = if text.contains(':') {
        let parts: Vec<&str> = text.split(':').collect();
        if parts.iter().any(|p| p.len() != 2) {
            return Err(bad_fingerprint(
                "write it as 32 pairs of hex digits separated by colons",
            ));
        }
        parts.concat()
    } else {
        text.to_owned()
    };
    let bytes = hex::decode(&hex_digits)
        .map_err(|_| bad_fingerprint("it may only contain hex digits (0-9, A-F) and colons"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        bad_fingerprint(&format!(
            "a SHA-256 fingerprint has 32 bytes, this one has {}",
            bytes.len()
        ))
    })
}

fn bad_fingerprint(why: &str) -> PveError {
    PveError::InvalidConfig(format!("the certificate fingerprint is not valid: {why}"))
}

/// Formats a fingerprint as PVE shows it: uppercase hex pairs joined by `:`.
pub fn format_fingerprint(fp: &[u8; 32]) -> String {
    fp.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// SHA-256 of a DER certificate, the value that [`Trust::PinnedSha256`] compares.
pub fn certificate_fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// The pinned verifier's complaint, carried inside the rustls error to the caller.
#[derive(Debug, Clone, thiserror::Error)]
#[error("certificate fingerprint {} does not match the pinned {}", format_fingerprint(.seen), format_fingerprint(.expected))]
pub(crate) struct PinMismatch {
    pub expected: [u8; 32],
    pub seen: [u8; 32],
}

/// Accepts exactly one end-entity certificate; handshake signatures are still checked.
#[derive(Debug)]
struct PinnedVerifier {
    expected: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = certificate_fingerprint(end_entity.as_ref());
        if seen == self.expected {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(PinMismatch {
                    expected: self.expected,
                    seen,
                })),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Builds the rustls client config for a trust mode, on the ring provider.
pub(crate) fn rustls_config(trust: &Trust) -> Result<rustls::ClientConfig, PveError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| PveError::InvalidConfig(format!("TLS setup failed: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match trust {
        Trust::SystemCa => Arc::new(rustls_platform_verifier::Verifier::new(provider).map_err(
            |e| {
                PveError::InvalidConfig(format!(
                    "the system CA store could not be loaded ({e}); pin the server's \
                     certificate fingerprint instead"
                ))
            },
        )?),
        Trust::PinnedSha256(expected) => Arc::new(PinnedVerifier {
            expected: *expected,
            provider,
        }),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// Makes ring the process's default rustls provider (idempotent). This crate never needs it;
/// any other `reqwest::Client` in a process that links this crate does: reqwest is built
/// without a provider of its own (the workspace's one provider is ring), and a client built
/// without a default installed panics.
pub fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    const PVE_FP: &str = "5F:40:6C:F3:29:55:81:AB:2E:20:DB:C5:DE:CB:5C:0F:37:F0:80:FB:B3:52:A2:A9:F6:4E:C7:11:80:8A:7F:23";

    #[test]
    fn fingerprint_round_trips() {
        let fp = parse_fingerprint(PVE_FP).unwrap();
        assert_eq!(fp[0], 0x5F);
        assert_eq!(fp[31], 0x23);
        assert_eq!(format_fingerprint(&fp), PVE_FP);
    }

    #[test]
    fn fingerprint_accepts_lowercase_and_no_colons() {
        let plain = PVE_FP.replace(':', "").to_lowercase();
        assert_eq!(
            parse_fingerprint(&format!("  {plain}\n")).unwrap(),
            parse_fingerprint(PVE_FP).unwrap()
        );
    }

    #[test]
    fn fingerprint_rejects_bad_text() {
        for bad in [
            "",
            "5F:40",
            "5F:40:6C:F3:29:55:81:AB:2E:20:DB:C5:DE:CB:5C:0F:37:F0:80:FB:B3:52:A2:A9:F6:4E:C7:11:80:8A:7F",
            "ZZ:40:6C:F3:29:55:81:AB:2E:20:DB:C5:DE:CB:5C:0F:37:F0:80:FB:B3:52:A2:A9:F6:4E:C7:11:80:8A:7F:23",
            "5F4:0:6C:F3:29:55:81:AB:2E:20:DB:C5:DE:CB:5C:0F:37:F0:80:FB:B3:52:A2:A9:F6:4E:C7:11:80:8A:7F:23",
        ] {
            let err = parse_fingerprint(bad).unwrap_err();
            assert!(matches!(err, PveError::InvalidConfig(_)), "{bad}");
        }
    }

    #[test]
    fn debug_shows_the_fingerprint_text() {
        let t = Trust::pinned(PVE_FP).unwrap();
        assert_eq!(format!("{t:?}"), format!("PinnedSha256({PVE_FP})"));
    }
}
