//! Real services for tests.
//!
//! `scripts/test.sh` starts a private PostgreSQL cluster, Redis and ChromeDriver on loopback and
//! sets the variables below; a test that needs one of them and runs without it fails with a
//! message saying so (never skips).
//!
//! | variable | what |
//! |---|---|
//! | `TEST_DATABASE_ADMIN_URL` | a superuser URL to the cluster's `postgres` database |
//! | `TEST_DATABASE_TEMPLATE` | a database with every migration applied, cloned per test |
//! | `TEST_REDIS_URL` | the test Redis |
//! | `TEST_WEBDRIVER_URL` | ChromeDriver, for browser tests |
//! | `TEST_OUTPUT_DIR` | where browser tests write screenshots |

#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod gate;
#[cfg(feature = "server")]
pub mod server;

pub use gate::TcpGate;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// The value of a variable the test command sets; panics with a clear message when absent.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through scripts/test.sh, which starts the services they need")
    })
}

/// A database URL on the test cluster for database `name`.
fn url_for(name: &str) -> String {
    let admin = required_env("TEST_DATABASE_ADMIN_URL");
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(&admin);
    format!("{base}/{name}")
}

async fn create_database(name: &str, template: Option<&str>) -> String {
    let admin = required_env("TEST_DATABASE_ADMIN_URL");
    let mut conn = AsyncPgConnection::establish(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL: {e}"));
    let sql = match template {
        Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
        None => format!("CREATE DATABASE \"{name}\""),
    };
    diesel::sql_query(sql)
        .execute(&mut conn)
        .await
        .expect("create test database");
    url_for(name)
}

/// A new database with every migration applied, for this test alone.
pub async fn migrated_database() -> String {
    let template = required_env("TEST_DATABASE_TEMPLATE");
    create_database(
        &format!("t_{}", uuid::Uuid::new_v4().simple()),
        Some(&template),
    )
    .await
}

/// A new empty database (to test the migrations themselves).
pub async fn empty_database() -> String {
    create_database(&format!("e_{}", uuid::Uuid::new_v4().simple()), None).await
}

/// Where the built SPA is: `TEST_SITE_ROOT`, else `dist/` in the workspace (the test command
/// builds it first).
pub fn site_root() -> std::path::PathBuf {
    let root = std::env::var("TEST_SITE_ROOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"));
    assert!(
        root.join("index.html").exists(),
        "the SPA is not built at {}: run scripts/test.sh (it runs trunk build)",
        root.display()
    );
    root
}

pub fn redis_url() -> String {
    required_env("TEST_REDIS_URL")
}

pub fn webdriver_url() -> String {
    required_env("TEST_WEBDRIVER_URL")
}

/// A folder for screenshots and other artefacts a person may want to look at.
pub fn output_dir() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(
        std::env::var("TEST_OUTPUT_DIR").unwrap_or_else(|_| "test-output".into()),
    );
    std::fs::create_dir_all(&dir).expect("create the test output folder");
    dir
}

/// A unique name for a test's users, keys and rows, so tests sharing Redis never collide.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A random client address from 198.18.0.0/15 (set aside for tests), to send as
/// `X-Forwarded-For` so that each test's logins are throttled on their own.
pub fn unique_client_address() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    format!(
        "198.{}.{}.{}",
        18 + (bytes[0] & 1),
        bytes[1],
        bytes[2].max(1)
    )
}

/// Local ports of this process's established TCP connections to the test Redis, read from
/// `/proc` (one process per test under nextest, so this counts exactly one test's connections).
pub fn own_redis_ports() -> std::collections::HashSet<u16> {
    let url = redis_url();
    let redis_port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("TEST_REDIS_URL has no port: {url}"));
    let inodes: std::collections::HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let t = target.to_string_lossy().into_owned();
            Some(t.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let mut ports = std::collections::HashSet::new();
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for row in text.lines().skip(1) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
            if cols.len() > 9
                && cols[3] == "01"
                && port(cols[2]) == Some(redis_port)
                && inodes.contains(cols[9])
            {
                ports.extend(port(cols[1]));
            }
        }
    }
    ports
}

/// The lines of a Redis `CLIENT LIST` reply that are this process's own connections.
pub fn own_client_lines(client_list: &str) -> Vec<&str> {
    let ports = own_redis_ports();
    client_list
        .lines()
        .filter(|line| {
            line.split(' ')
                .find_map(|f| f.strip_prefix("addr="))
                .and_then(|addr| addr.rsplit(':').next()?.parse::<u16>().ok())
                .is_some_and(|port| ports.contains(&port))
        })
        .collect()
}
