//! `worker`: runs creation jobs until SIGTERM or Ctrl-C. `worker print-deploy-key` prints the
//! public key to add to each Proxmox node's `/root/.ssh/authorized_keys` (creating the key pair
//! on first use).

use anyhow::Context;
use worker::config::WorkerConfig;

const USAGE: &str = "usage: worker [print-deploy-key]
  (no argument)      run creation jobs until SIGTERM or Ctrl-C
  print-deploy-key   print the worker's SSH public key (created on first use)
Configuration is read from the environment; see .env.example.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    backend::logging::init("info")?;

    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => {
            let config = WorkerConfig::from_env()?;
            tracing::info!(?config, "starting");
            let shutdown = worker::serve::shutdown_on_signals()?;
            worker::serve::run(config, shutdown).await?;
            Ok(())
        }
        ["print-deploy-key"] => {
            let path = std::path::PathBuf::from(backend::config::var_or(
                "INFRAHAUS_WORKER_DEPLOY_KEY_FILE",
                "data/deploy_ed25519",
            )?);
            let key =
                tokio::task::spawn_blocking(move || remote_shell::DeployKey::load_or_create(&path))
                    .await?
                    .context("INFRAHAUS_WORKER_DEPLOY_KEY_FILE")?;
            println!("{}", key.public_openssh());
            Ok(())
        }
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}
