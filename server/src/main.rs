//! `server`: the infrahaus web server and its admin commands.

mod allocator;
mod cli;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "server", about = "infrahaus web server and admin commands")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(cli::user::UserCommand),
    /// Register Proxmox VE nodes.
    #[command(subcommand)]
    Node(cli::node::NodeCommand),
    /// Check a Proxmox VE node before adding it: version, storages, templates, bridges, privileges.
    PveCheck(cli::pve_check::PveCheckArgs),
    /// Manage templates.
    #[command(subcommand)]
    Templates(cli::templates::TemplatesCommand),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cli::init_tracing()?;
    allocator::return_large_allocations_when_freed();
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Serve => cli::serve::run().await,
        Command::Migrate => cli::migrate().await,
        Command::User(cmd) => cli::user::run(cmd).await,
        Command::Node(cmd) => cli::node::run(cmd).await,
        Command::PveCheck(args) => cli::pve_check::run(args).await,
        Command::Templates(cmd) => cli::templates::run(cmd).await,
    }
}
