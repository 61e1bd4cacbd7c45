//! Certificate trust: the pinned fingerprint is accepted, a wrong pin and the system CA store
//! (which does not know the self-signed test certificate) are not.

use pve_client::{PveClient, PveError, Trust, format_fingerprint};

use crate::common::{MockPve, Reply, token};

#[tokio::test]
async fn pinned_fingerprint_is_accepted() {
    let server = MockPve::start(|_| Reply::fixture("GET_version.pve9")).await;
    let fp_text = format_fingerprint(&server.fingerprint);
    let mut config = server.config(token());
    config.trust = Trust::pinned(&fp_text).unwrap();
    let client = PveClient::new(config).unwrap();
    assert_eq!(client.version().await.unwrap().release, "9.1");
}

#[tokio::test]
async fn wrong_pin_names_both_fingerprints() {
    let server = MockPve::start(|_| Reply::fixture("GET_version.pve9")).await;
    let mut config = server.config(token());
    config.trust = Trust::PinnedSha256([0xAB; 32]);
    let err = PveClient::new(config).unwrap().version().await.unwrap_err();
    match &err {
        PveError::PinMismatch { expected, seen, .. } => {
            assert_eq!(expected, &format_fingerprint(&[0xAB; 32]));
            assert_eq!(seen, &format_fingerprint(&server.fingerprint));
        }
        other => panic!("expected a pin mismatch, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&format_fingerprint(&server.fingerprint)),
        "{text}"
    );
    assert!(
        server.requests().is_empty(),
        "no request may pass a failed handshake"
    );
}

#[tokio::test]
async fn system_ca_mode_rejects_a_self_signed_certificate() {
    let server = MockPve::start(|_| Reply::fixture("GET_version.pve9")).await;
    let mut config = server.config(token());
    config.trust = Trust::SystemCa;
    let err = PveClient::new(config).unwrap().version().await.unwrap_err();
    assert!(
        matches!(&err, PveError::Tls { reason, .. } if reason.contains("not signed by a CA")),
        "{err:?}"
    );
    assert!(err.to_string().contains("pin its SHA-256 fingerprint"));
    assert!(server.requests().is_empty());
}
