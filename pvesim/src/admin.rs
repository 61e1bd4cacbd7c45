//! The simulator's own HTTP endpoints, outside `/api2`: runtime fault injection.
//!
//! - `GET /_sim/faults` → the current [`Faults`] as JSON.
//! - `POST /_sim/faults` with a [`FaultsPatch`] JSON body → merges it, returns the result.
//! - `DELETE /_sim/faults` → back to the simulator's start settings.
//! - `GET /_sim/requests` → how many API requests came for each `METHOD /path`, e.g.
//!   `{"GET /nodes/pve/lxc": 3}` (the path after `/api2/json`).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::faults::{Faults, FaultsPatch};
use crate::sim::Sim;

/// Admin routes, with the fault settings the simulator started with (for reset).
pub fn router(sim: Arc<Sim>, initial: Faults) -> Router {
    let initial = Arc::new(initial);
    Router::new()
        .route(
            "/_sim/faults",
            get(current)
                .post(update)
                .delete(move |state: State<Arc<Sim>>| reset(state, initial.clone())),
        )
        .route("/_sim/requests", get(requests))
        .with_state(sim)
}

async fn requests(State(sim): State<Arc<Sim>>) -> Json<std::collections::BTreeMap<String, u64>> {
    Json(sim.request_counts())
}

async fn current(State(sim): State<Arc<Sim>>) -> Json<Faults> {
    Json(sim.faults().clone())
}

async fn update(State(sim): State<Arc<Sim>>, Json(patch): Json<FaultsPatch>) -> Json<Faults> {
    let mut faults = sim.faults();
    faults.apply(patch);
    tracing::info!(faults = ?*faults, "faults updated");
    Json(faults.clone())
}

async fn reset(State(sim): State<Arc<Sim>>, initial: Arc<Faults>) -> Json<Faults> {
    let mut faults = sim.faults();
    *faults = (*initial).clone();
    Json(faults.clone())
}
