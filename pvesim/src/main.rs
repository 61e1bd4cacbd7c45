//! `pvesim`: runs the simulator until Ctrl-C (see `pvesim --help`).

use clap::Parser;
use pvesim::Simulator;
use pvesim::cli::Args;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let ip_pool = args.ip_pool;
    let config = match args.into_config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("pvesim: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let handle = match Simulator::start(config).await {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("pvesim: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("fingerprint: {}", handle.fingerprint);
    println!("api: {}", handle.api_url);
    println!("admin: {}/_sim/faults", handle.base_url);
    println!("nodes: {}", handle.nodes.join(", "));
    for user in &handle.users {
        println!("user: {} password: {}", user.userid, user.password);
    }
    for token in &handle.tokens {
        println!("token: Authorization: {}", token.header_value());
    }
    if let (Some(addr), Some(key)) = (handle.node_ssh_addr, &handle.node_ssh_host_key) {
        println!("node ssh: root@{addr} host key: {key}");
    }
    println!(
        "container ssh: port {} (addresses from {}/{})",
        handle.ssh_port, ip_pool.base, ip_pool.prefix
    );
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("pvesim: cannot wait for Ctrl-C");
    }
    handle.shutdown().await;
    std::process::ExitCode::SUCCESS
}
