//! Every error class, produced by a real HTTPS exchange or a real failed connection.

use std::time::Duration;

use pve_client::{Auth, PveClient, PveError, Trust};
use serde_json::json;

use crate::common::{MockPve, Reply, token};

async fn error_for(reply: Reply) -> PveError {
    let server = MockPve::start(move |_| reply.clone()).await;
    server.client(token()).nodes().await.unwrap_err()
}

#[tokio::test]
async fn empty_body_401_is_an_auth_failure() {
    let err = error_for(Reply::raw(401, Some("Authentication failed!"), "")).await;
    assert!(
        matches!(&err, PveError::AuthFailed { message } if message == "Authentication failed!")
    );
    assert!(
        err.to_string()
            .contains("Check the API token ID and secret")
    );
}

#[tokio::test]
async fn permission_message_gives_path_and_privilege() {
    let body = json!({"data": null, "message": "Permission check failed (/sdn/zones/localnetwork/vmbr0, SDN.Use)\n"});
    let err = error_for(Reply::raw(
        403,
        Some("Permission check failed"),
        body.to_string(),
    ))
    .await;
    assert!(
        matches!(&err, PveError::PermissionDenied { path: Some(p), privilege: Some(v), .. }
            if p == "/sdn/zones/localnetwork/vmbr0" && v == "SDN.Use"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Permission denied: the credentials lack 'SDN.Use' on '/sdn/zones/localnetwork/vmbr0'. \
         Grant it in Datacenter > Permissions (for a privilege-separated API token, grant it to \
         the token too)."
    );
}

#[tokio::test]
async fn parameter_errors_keep_the_field_map() {
    let err = error_for(Reply::fixture("POST_nodes_node_lxc.missing-ostemplate")).await;
    assert_eq!(
        err.to_string(),
        "Proxmox rejected the request: ostemplate: property is missing and it is not optional"
    );
}

#[tokio::test]
async fn ct_exists_is_typed() {
    let err = error_for(Reply::fixture("POST_nodes_node_lxc.ct-exists")).await;
    assert_eq!(
        err.to_string(),
        "ID 100 is already used by a container on node 'pve'. Pick another ID or remove the \
         existing guest."
    );
}

#[tokio::test]
async fn status_595_means_node_unreachable() {
    let err = error_for(Reply::raw(595, Some("No route to host"), "")).await;
    assert!(
        matches!(&err, PveError::NodeUnreachable { status: 595, message } if message == "No route to host"),
        "{err:?}"
    );
    let err = error_for(Reply::raw(596, Some("Connection timed out"), "")).await;
    assert!(
        matches!(&err, PveError::NodeUnreachable { status: 596, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn old_servers_put_the_message_in_the_reason_phrase() {
    let err = error_for(Reply::raw(
        500,
        Some("CT 100 already exists on node 'pve'"),
        r#"{"data":null}"#,
    ))
    .await;
    assert!(
        matches!(&err, PveError::AlreadyExists { vmid: 100, .. }),
        "{err:?}"
    );

    let err = error_for(Reply::raw(
        403,
        Some("Permission check failed (/vms/100, VM.Allocate)"),
        r#"{"data":null}"#,
    ))
    .await;
    assert!(
        matches!(&err, PveError::PermissionDenied { privilege: Some(p), .. } if p == "VM.Allocate"),
        "{err:?}"
    );

    let err = error_for(Reply::raw(500, Some("got timeout"), r#"{"data":null}"#)).await;
    assert_eq!(err.to_string(), "Proxmox answered HTTP 500: got timeout");
}

#[tokio::test]
async fn non_json_success_is_a_decode_error() {
    let err = error_for(Reply::raw(200, None, "<html>pveproxy</html>")).await;
    assert!(matches!(&err, PveError::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn connection_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client =
        pve_client::connect("127.0.0.1", port, token(), Trust::PinnedSha256([0; 32])).unwrap();
    let err = client.version().await.unwrap_err();
    assert!(
        matches!(&err, PveError::ConnectionRefused { port: p, .. } if *p == port),
        "{err:?}"
    );
    assert!(err.to_string().contains("refused"));
}

#[tokio::test]
async fn slow_server_times_out() {
    let server =
        MockPve::start(|_| Reply::fixture("GET_version.pve9").delayed(Duration::from_secs(5)))
            .await;
    let mut config = server.config(token());
    config.timeout = Duration::from_millis(200);
    let started = std::time::Instant::now();
    let err = PveClient::new(config).unwrap().version().await.unwrap_err();
    assert!(matches!(&err, PveError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn unknown_host_is_a_dns_error() {
    let client = pve_client::connect(
        "pve-does-not-exist.invalid",
        8006,
        Auth::ApiToken {
            token_id: "a@pve!b".into(),
            secret: "c".into(),
        },
        Trust::PinnedSha256([0; 32]),
    )
    .unwrap();
    let err = client.version().await.unwrap_err();
    assert!(
        matches!(&err, PveError::Dns { host } if host == "pve-does-not-exist.invalid"),
        "{err:?}"
    );
}

#[test]
fn bad_host_text_is_a_config_error() {
    for host in ["", "https://pve:8006", "pve/x"] {
        let err = pve_client::connect(host, 8006, token(), Trust::SystemCa).unwrap_err();
        assert!(matches!(err, PveError::InvalidConfig(_)), "{host}: {err:?}");
    }
}
