//! `server templates discover`: syncs the templates folder into the database.

use backend::config::{BackendConfig, var_or};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum TemplatesCommand {
    /// Add new and update changed templates from the folder (default: INFRAHAUS_TEMPLATES_DIR,
    /// else `templates`). Exits non-zero when a template folder has problems.
    Discover {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

pub async fn run(command: TemplatesCommand) -> anyhow::Result<()> {
    let TemplatesCommand::Discover { dir } = command;
    let dir = match dir {
        Some(dir) => dir,
        None => PathBuf::from(var_or("INFRAHAUS_TEMPLATES_DIR", "templates")?),
    };
    let config = BackendConfig::from_env()?;
    backend::db::run_migrations(&config.database_url).await?;
    let pool = backend::db::pool(&config.database_url, 1)?;
    let mut conn = pool.get().await?;
    let report = backend::templates::sync::sync_folder(&mut conn, &dir).await?;
    for (label, names) in [
        ("added", &report.added),
        ("updated", &report.updated),
        ("unchanged", &report.unchanged),
    ] {
        if !names.is_empty() {
            println!("{label}: {}", names.join(", "));
        }
    }
    for issue in &report.issues {
        eprintln!("problem: {issue}");
    }
    anyhow::ensure!(
        report.issues.is_empty(),
        "{} problem(s) in {}",
        report.issues.len(),
        dir.display()
    );
    Ok(())
}
