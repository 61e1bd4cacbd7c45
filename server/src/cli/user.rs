//! `server user create|reset-password|ensure`: accounts from the command line. Passwords are read
//! from standard input (first line), never from arguments.

use backend::config::BackendConfig;
use clap::Subcommand;
use std::io::BufRead;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin.
    Create {
        #[arg(long)]
        username: String,
    },
    /// Set a new password (read from stdin) and end the user's sessions.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Create the user only if there is no user at all; prints whether it did.
    CreateFirst {
        #[arg(long)]
        username: String,
    },
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    Ok(password)
}

fn check_username(name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c)),
        "user names have 1 to 64 letters, digits, dots, dashes, underscores or @"
    );
    Ok(())
}

pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    let config = BackendConfig::from_env()?;
    backend::db::run_migrations(&config.database_url).await?;
    let pool = backend::db::pool(&config.database_url, 1)?;
    let mut conn = pool.get().await?;
    match command {
        UserCommand::Create { username } => {
            check_username(&username)?;
            let password = read_password()?;
            backend::accounts::create_user(&mut conn, &username, &password).await?;
            println!("created user {username}");
        }
        UserCommand::ResetPassword { username } => {
            let password = read_password()?;
            let redis = backend::redis::connect(&config.redis_url).await?;
            backend::accounts::reset_password(&mut conn, &redis, &username, &password).await?;
            println!("password of {username} changed; their sessions were ended");
        }
        UserCommand::CreateFirst { username } => {
            check_username(&username)?;
            if backend::models::User::count(&mut conn).await? > 0 {
                println!("a user exists already; nothing created");
                return Ok(());
            }
            let password = read_password()?;
            backend::accounts::create_user(&mut conn, &username, &password).await?;
            println!("created user {username}");
        }
    }
    Ok(())
}
