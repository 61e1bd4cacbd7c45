//! `/access/ticket` and `/access/permissions`.

use http::StatusCode;
use serde_json::{Map, Value, json};

use super::Ctx;
use super::error::{ApiData, ApiError, ApiResult};
use crate::sim::Sim;

/// Paths `/access/permissions` reports when no `path` is asked for.
const STANDARD_PATHS: &[&str] = &[
    "/",
    "/access",
    "/access/groups",
    "/mapping",
    "/nodes",
    "/pool",
    "/sdn",
    "/storage",
    "/vms",
];

/// `POST /access/ticket`: password (or a still valid ticket) → ticket, CSRF token, caps.
pub async fn ticket(ctx: &Ctx<'_>) -> ApiResult {
    let mut username = ctx.text("username").unwrap_or_default();
    if let Some(realm) = ctx.text("realm")
        && !username.contains('@')
    {
        username = format!("{username}@{realm}");
    }
    let password = ctx.text("password").unwrap_or_default();
    let now = Sim::now();
    let accounts = &ctx.sim.accounts;
    let valid = accounts.check_password(&username, &password)
        || accounts
            .signer
            .verify_ticket(&password, now)
            .is_some_and(|u| u == username);
    if !valid {
        tracing::info!(%username, "authentication failure");
        if !ctx.sim.auth_failure_delay.is_zero() {
            tokio::time::sleep(ctx.sim.auth_failure_delay).await;
        }
        return Err(ApiError::Status {
            status: StatusCode::UNAUTHORIZED,
            message: "authentication failure".into(),
        });
    }
    let privs = accounts.privileges_of(&username);
    let mut data = json!({
        "username": username,
        "ticket": accounts.signer.ticket(&username, now),
        "CSRFPreventionToken": accounts.signer.csrf_token(&username, now),
        "cap": privs.capabilities(),
    });
    if ctx.sim.nodes.len() > 1 && privs.has("Sys.Audit") {
        data["clustername"] = json!("pvesim");
    }
    Ok(ApiData::new(data))
}

/// `GET /access/permissions`: the caller's (or `userid`'s) privileges per path.
pub fn permissions(ctx: &Ctx<'_>) -> ApiResult {
    let caller = ctx.authid();
    let target = ctx.text("userid").unwrap_or_else(|| caller.clone());
    let caller_user = caller.split('!').next().unwrap_or_default().to_string();
    let own = target == caller
        || target
            .split_once('!')
            .is_some_and(|(u, _)| u == caller_user);
    if !own {
        ctx.require("/access", "Sys.Audit")?;
    }
    let user = target.split('!').next().unwrap_or_default();
    if !ctx.sim.accounts.user_exists(user) {
        return Err(ApiError::internal(format!("no such user ('{user}')")));
    }
    let privs = ctx.sim.accounts.privileges_of(&target);
    let entry: Map<String, Value> = privs.iter().map(|p| (p.to_string(), json!(1))).collect();
    let paths: Vec<String> = match ctx.text("path") {
        Some(path) => vec![path],
        None => STANDARD_PATHS.iter().map(|p| p.to_string()).collect(),
    };
    let data: Map<String, Value> = paths
        .into_iter()
        .map(|p| (p, Value::Object(entry.clone())))
        .collect();
    Ok(ApiData::new(Value::Object(data)))
}
