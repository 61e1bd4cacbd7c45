//! `server serve` with TLS, as an operator starts it: the TLS settings are checked with messages
//! naming the variable, and with `INFRAHAUS_TLS=on` and no certificate the server generates one
//! next to the secret key file, prints its fingerprint and answers HTTP/2 over TLS.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test]
async fn bad_tls_settings_are_refused_naming_the_variable() {
    let database_url = testkit::migrated_database().await;
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let cases: [(&[(&str, &Path)], &str); 4] = [
        (&[("INFRAHAUS_TLS_CERT", &cert)], "INFRAHAUS_TLS_KEY"),
        (&[("INFRAHAUS_TLS_KEY", &cert)], "INFRAHAUS_TLS_CERT"),
        (&[("INFRAHAUS_TLS", Path::new("yes"))], "INFRAHAUS_TLS"),
        (
            &[
                ("INFRAHAUS_TLS", Path::new("on")),
                (
                    "INFRAHAUS_PUBLIC_URL",
                    Path::new("http://infra.example.net"),
                ),
            ],
            "INFRAHAUS_PUBLIC_URL",
        ),
    ];
    for (env, named) in cases {
        let (ok, output) = crate::cli::run_server(&["serve"], &database_url, env, "");
        assert!(!ok, "{env:?} was accepted: {output}");
        assert!(output.contains(named), "{env:?}: {output}");
    }
}

#[tokio::test]
async fn tls_on_generates_a_certificate_prints_its_fingerprint_and_speaks_http2() {
    let database_url = testkit::migrated_database().await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env("DATABASE_URL", &database_url)
        .env("REDIS_URL", testkit::redis_url())
        .env("RUST_LOG", "warn")
        .env("INFRAHAUS_TLS", "on")
        .env("INFRAHAUS_LISTEN", format!("127.0.0.1:{port}"))
        .env("INFRAHAUS_SECRET_KEY_FILE", dir.path().join("secret.key"))
        .env("INFRAHAUS_SITE_ROOT", testkit::site_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let printed = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|line| line.contains("SHA-256 fingerprint"))
    });
    let printed = tokio::time::timeout(Duration::from_secs(60), printed)
        .await
        .expect("the server prints the fingerprint")
        .unwrap();
    let key_dir = dir.path().to_owned();
    let outcome = async move {
        let printed = printed.expect("a fingerprint line");
        let cert_path = key_dir.join(server::tls::SELF_SIGNED_CERT);
        let identity = server::tls::TlsIdentity::load(&server::tls::TlsSource::Files {
            cert: cert_path.clone(),
            key: key_dir.join(server::tls::SELF_SIGNED_KEY),
        })
        .unwrap();
        assert!(printed.ends_with(&identity.fingerprint), "{printed}");

        pve_client::tls::install_default_provider();
        let pem = std::fs::read(&cert_path).unwrap();
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
            .build()
            .unwrap();
        // The listener is bound before the fingerprint is printed.
        let response = client
            .get(format!("https://127.0.0.1:{port}/health"))
            .send()
            .await
            .expect("the server answers over TLS");
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        assert_eq!(response.text().await.unwrap(), "ok");
    };
    let result = tokio::spawn(outcome).await;
    child.kill().unwrap();
    child.wait().unwrap();
    result.unwrap();
}
