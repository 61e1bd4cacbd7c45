//! How the SPA's files are sent: the build's `.br`/`.gz` copy when the browser accepts it, the
//! file itself otherwise; hashed names cached for a year, the index page revalidated.

use std::io::{Read, Write};
use std::path::Path;
use testkit::server::TestApp;

const HASHED_JS: &str = "frontend-8c6512c0510c47e7.js";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A site root like the build's: an index page, a hashed script with its `.br` and `.gz`
/// copies, and an unhashed file without copies. Returns the script's content.
fn site(root: &Path) -> Vec<u8> {
    let script: Vec<u8> = (0..2000)
        .flat_map(|i| format!("export const value{i} = {i};\n").into_bytes())
        .collect();
    std::fs::write(root.join(HASHED_JS), &script).unwrap();
    let mut br = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
        writer.write_all(&script).unwrap();
    }
    std::fs::write(root.join(format!("{HASHED_JS}.br")), br).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&script).unwrap();
    std::fs::write(root.join(format!("{HASHED_JS}.gz")), gz.finish().unwrap()).unwrap();
    std::fs::write(root.join("robots.txt"), "User-agent: *\n").unwrap();
    std::fs::write(
        root.join("index.html"),
        "<!doctype html><html><head><title>t</title></head><body></body></html>",
    )
    .unwrap();
    script
}

async fn get(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> reqwest::Response {
    let mut request = app.client().get(format!("{}{path}", app.url));
    if let Some(accepted) = accept_encoding {
        request = request.header("accept-encoding", accepted);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_hashed_file_is_sent_as_brotli_to_a_browser_that_accepts_it() {
    let root = tempfile::tempdir().unwrap();
    let script = site(root.path());
    let app = TestApp::start().await.serving(root.path()).await;

    let response = get(
        &app,
        &format!("/{HASHED_JS}"),
        Some("gzip, deflate, br, zstd"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding"), "br");
    assert!(header(&response, "content-type").contains("javascript"));
    assert_eq!(header(&response, "vary").to_lowercase(), "accept-encoding");
    assert_eq!(header(&response, "cache-control"), IMMUTABLE);
    let body = response.bytes().await.unwrap();
    assert!(
        body.len() < script.len() / 4,
        "not compressed: {} bytes",
        body.len()
    );
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&body[..], 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, script);
}

#[tokio::test]
async fn a_hashed_file_is_sent_as_gzip_without_brotli() {
    let root = tempfile::tempdir().unwrap();
    let script = site(root.path());
    let app = TestApp::start().await.serving(root.path()).await;

    let response = get(&app, &format!("/{HASHED_JS}"), Some("gzip")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding"), "gzip");
    assert_eq!(header(&response, "vary").to_lowercase(), "accept-encoding");
    assert_eq!(header(&response, "cache-control"), IMMUTABLE);
    let body = response.bytes().await.unwrap();
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, script);
}

#[tokio::test]
async fn a_hashed_file_is_sent_as_it_is_without_accept_encoding() {
    let root = tempfile::tempdir().unwrap();
    let script = site(root.path());
    let app = TestApp::start().await.serving(root.path()).await;

    let response = get(&app, &format!("/{HASHED_JS}"), None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding"), "");
    assert_eq!(header(&response, "vary").to_lowercase(), "accept-encoding");
    assert_eq!(header(&response, "cache-control"), IMMUTABLE);
    assert_eq!(response.bytes().await.unwrap(), script);
}

#[tokio::test]
async fn the_index_page_and_unhashed_files_are_revalidated() {
    let root = tempfile::tempdir().unwrap();
    site(root.path());
    let app = TestApp::start().await.serving(root.path()).await;

    let login = get(&app, "/login", Some("br, gzip")).await;
    assert_eq!(login.status(), 200);
    assert_eq!(header(&login, "cache-control"), "no-cache");
    assert_eq!(header(&login, "content-encoding"), "");
    assert!(login.text().await.unwrap().contains("<title>t</title>"));

    let robots = get(&app, "/robots.txt", Some("br, gzip")).await;
    assert_eq!(robots.status(), 200);
    assert_eq!(header(&robots, "cache-control"), "no-cache");
    assert_eq!(header(&robots, "content-encoding"), "");
    assert_eq!(robots.text().await.unwrap(), "User-agent: *\n");

    // A signed-in page for an anonymous visitor: the redirect to the login page is not cached.
    let redirect = get(&app, "/containers", None).await;
    assert_eq!(redirect.status(), 303);
    assert_eq!(header(&redirect, "cache-control"), "no-cache");
}
