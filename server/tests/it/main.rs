//! The server's integration tests, in one binary (one link instead of one per file): the real
//! router on 127.0.0.1:0 against the test PostgreSQL and Redis, the simulator where a node is
//! needed, and headless Chromium for the `browser*` modules. Each test still runs in its own
//! process under nextest.

mod api_contract;
mod audit;
mod auth;
mod browser;
mod browser_http2;
mod browser_live;
mod browser_progress;
mod browser_templates;
mod browser_users;
mod browser_wizard;
mod cli;
mod cli_node;
mod cli_serve_tls;
mod cli_user;
mod containers;
mod create;
mod health;
mod http1_streams;
mod http2;
mod keep_alive_streams;
mod live_status;
mod nodes;
mod progress;
mod static_files;
mod templates_api;
mod updates;
mod users;
