//! `server user create|reset-password|create-first`: accounts from the command line. Passwords
//! are read from standard input (first line), never from arguments. User names and passwords
//! follow the users page's rules ([`domain::user`]).

use backend::config::BackendConfig;
use clap::Subcommand;
use domain::user::Role;
use std::io::BufRead;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin.
    Create {
        #[arg(long)]
        username: String,
        /// `admin` or `operator`. Default: admin for the first account, operator after that.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
    },
    /// Set a new password (read from stdin) and end the user's sessions.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Create the user, an admin, only if there is no user at all; prints whether it did.
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
    match domain::user::username(name) {
        Ok(checked) if checked == name => Ok(()),
        Ok(_) => anyhow::bail!("user name: no spaces around it"),
        Err(message) => anyhow::bail!("user name: {message}"),
    }
}

fn parse_role(value: &str) -> Result<Role, String> {
    value
        .parse()
        .map_err(|_| "the role is admin or operator".to_owned())
}

pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    let config = BackendConfig::from_env()?;
    backend::db::run_migrations(&config.database_url).await?;
    let pool = backend::db::pool(&config.database_url, 1)?;
    let mut conn = pool.get().await?;
    match command {
        UserCommand::Create { username, role } => {
            check_username(&username)?;
            let password = read_password()?;
            let role = match role {
                Some(role) => role,
                None if backend::models::User::count(&mut conn).await? == 0 => Role::Admin,
                None => Role::Operator,
            };
            backend::accounts::create_user_with_role(&mut conn, &username, &password, role).await?;
            println!("created user {username} ({role})");
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
            backend::accounts::create_user_with_role(&mut conn, &username, &password, Role::Admin)
                .await?;
            println!("created user {username} (admin)");
        }
    }
    Ok(())
}
