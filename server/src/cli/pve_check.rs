//! `server pve-check`: a preflight a user runs before adding a node. Prints what a container
//! creation would find and exits non-zero with the reasons when one could not be created.

use clap::Args;
use pve_client::{Auth, Trust};
use std::io::BufRead;

#[derive(Args)]
pub struct PveCheckArgs {
    /// The node's API address, e.g. https://192.168.1.10:8006
    #[arg(long)]
    url: String,
    /// An API token: user@realm!tokenid=SECRET
    #[arg(long, conflicts_with = "user")]
    token: Option<String>,
    /// A user (user@realm) to log in with a password read from stdin.
    #[arg(long, requires = "password_stdin")]
    user: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
    /// Pin the certificate's SHA-256 fingerprint instead of checking it against the system CAs.
    #[arg(long)]
    fingerprint: Option<String>,
    /// The node to check (default: the only or first online node).
    #[arg(long)]
    node: Option<String>,
}

/// Host and port from `https://HOST[:PORT][/…]`.
fn host_and_port(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| anyhow::anyhow!("--url must start with https://"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if let Some(stripped) = authority.strip_prefix('[') {
        let (host, tail) = stripped
            .split_once(']')
            .ok_or_else(|| anyhow::anyhow!("unclosed [ in --url"))?;
        let port = tail
            .strip_prefix(':')
            .map(str::parse)
            .transpose()?
            .unwrap_or(8006);
        return Ok((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Ok((host.to_owned(), port.parse()?)),
        None => Ok((authority.to_owned(), 8006)),
    }
}

pub async fn run(args: PveCheckArgs) -> anyhow::Result<()> {
    let (host, port) = host_and_port(&args.url)?;
    let auth = match (args.token, args.user) {
        (Some(token), None) => {
            let (token_id, secret) = token.rsplit_once('=').ok_or_else(|| {
                anyhow::anyhow!("--token must look like user@realm!tokenid=SECRET")
            })?;
            Auth::ApiToken {
                token_id: token_id.to_owned(),
                secret: secret.to_owned(),
            }
        }
        (None, Some(username)) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let password = line.trim_end_matches(['\n', '\r']).to_owned();
            anyhow::ensure!(!password.is_empty(), "no password on standard input");
            Auth::Password { username, password }
        }
        _ => anyhow::bail!("give either --token or --user with --password-stdin"),
    };
    let trust = match args.fingerprint {
        Some(fp) => Trust::pinned(&fp)?,
        None => Trust::SystemCa,
    };
    let client = pve_client::connect(&host, port, auth, trust)?;
    let report = pve_client::preflight(&client, args.node.as_deref()).await?;
    println!("{report}");
    if report.can_create() {
        println!("OK: a container can be created on this node.");
        Ok(())
    } else {
        for reason in report.blockers() {
            eprintln!("- {reason}");
        }
        anyhow::bail!("a container cannot be created with these credentials yet")
    }
}

#[cfg(test)]
mod tests {
    use super::host_and_port;

    #[test]
    fn urls() {
        assert_eq!(
            host_and_port("https://pve:8006").unwrap(),
            ("pve".into(), 8006)
        );
        assert_eq!(
            host_and_port("https://10.0.0.2/").unwrap(),
            ("10.0.0.2".into(), 8006)
        );
        assert_eq!(
            host_and_port("https://[fe80::1]:9000/api2").unwrap(),
            ("fe80::1".into(), 9000)
        );
        assert!(host_and_port("http://pve:8006").is_err());
    }
}
