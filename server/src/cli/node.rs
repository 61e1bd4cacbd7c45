//! `server node add`: registers a Proxmox node from the command line (the demo uses it for the
//! simulator). Validated by the settings page's rules; the token secret is read from stdin.

use backend::config::BackendConfig;
use backend::crypto::SecretBox;
use backend::models::{NewNode, NodeRow};
use clap::Subcommand;
use domain::node::NodeForm;
use std::io::BufRead;

#[derive(Subcommand)]
pub enum NodeCommand {
    /// Add a node, or update the one with this name; the API token secret is read from stdin.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        host: String,
        #[arg(long, default_value = "8006")]
        port: String,
        #[arg(long, default_value = "22")]
        ssh_port: String,
        /// `user@realm!tokenid`.
        #[arg(long)]
        token_id: String,
        /// Pin the API certificate by its SHA-256 fingerprint; without it the system CAs verify it.
        #[arg(long)]
        fingerprint: Option<String>,
    },
}

pub async fn run(command: NodeCommand) -> anyhow::Result<()> {
    let NodeCommand::Add {
        name,
        host,
        port,
        ssh_port,
        token_id,
        fingerprint,
    } = command;
    let mut secret = String::new();
    std::io::stdin().lock().read_line(&mut secret)?;
    let form = NodeForm {
        name,
        host,
        port,
        ssh_port,
        token_id,
        token_secret: secret.trim().to_owned(),
        tls_mode: if fingerprint.is_some() {
            "fingerprint"
        } else {
            "system_ca"
        }
        .into(),
        fingerprint: fingerprint.unwrap_or_default(),
    };
    let input = form.validate(true).map_err(|errors| {
        let lines: Vec<String> = errors.0.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        anyhow::anyhow!("invalid node: {}", lines.join("; "))
    })?;

    let config = BackendConfig::from_env()?;
    backend::db::run_migrations(&config.database_url).await?;
    let secrets = SecretBox::load_or_create(&config.secret_key_file)?;
    let pool = backend::db::pool(&config.database_url, 1)?;
    let mut conn = pool.get().await?;
    let name = input.name.clone();
    let new = NewNode::from_input(input, &secrets);
    match NodeRow::find_by_name(&mut conn, &name).await? {
        Some(existing) => {
            NodeRow::update(&mut conn, existing.id, &new).await?;
            println!("updated node {name}");
        }
        None => {
            NodeRow::insert(&mut conn, &new).await?;
            println!("added node {name}");
        }
    }
    Ok(())
}
