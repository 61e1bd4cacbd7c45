//! Service health of a ready container: the last check's report, and "Check now". The check
//! itself runs in a worker (it needs the container's key); these only read and ask.

use crate::error::AppError;
use domain::ContainerId;
use leptos::prelude::*;

pub use domain::health::{HealthReport, HealthView, PortState, ServiceHealth, UnitState};

/// The last report of the container's services, its age, and whether a check is under way.
#[server(endpoint = "containers/health", input = server_fn::codec::Json)]
pub async fn get_service_health(id: ContainerId) -> Result<HealthView, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    let checks =
        backend::health::HealthChecks::new(ctx.redis.clone(), ctx.queue.keys().namespace());
    Ok(backend::services::health::view(&ctx.db, &checks, id).await?)
}

/// Asks a worker to check the container's services now; answers at once with the view (its
/// `checking` set until the worker stores the report).
#[server(endpoint = "containers/check-health", input = server_fn::codec::Json)]
pub async fn check_service_health(id: ContainerId) -> Result<HealthView, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    let checks =
        backend::health::HealthChecks::new(ctx.redis.clone(), ctx.queue.keys().namespace());
    Ok(backend::services::health::check(&ctx.db, &checks, id).await?)
}
