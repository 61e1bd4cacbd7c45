//! Containers: the list, one container's page, and the live progress page, with the parts they
//! share (the progress stream, the log viewer, the stepper, services and their health, credentials,
//! actions).

pub mod actions;
pub mod activity;
pub mod cancel;
pub mod detail;
pub mod health;
pub mod list;
pub mod live;
pub mod log_view;
pub mod node_tasks;
pub mod progress;
pub mod runs;
pub mod services;
pub mod stepper;
pub mod stream;

use domain::ContainerId;
use domain::container::Lifecycle;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// A lifecycle as a badge: an icon and a word, not colour alone.
#[component]
pub fn LifecycleBadge(lifecycle: Lifecycle) -> impl IntoView {
    let (class, icon, text) = match lifecycle {
        Lifecycle::Creating => ("badge badge-creating", "◔", "Creating"),
        Lifecycle::Ready => ("badge badge-ready", "✓", "Ready"),
        Lifecycle::Error => ("badge badge-error", "✕", "Failed"),
        Lifecycle::Updating => ("badge badge-creating", "◔", "Updating"),
    };
    view! {
        <span class=class data-lifecycle=lifecycle.as_str()>
            <span aria-hidden="true">{icon}</span>
            " "
            {text}
        </span>
    }
}

/// The container id in the route (`/containers/:id…`), if it is one.
pub fn container_id_param() -> Memo<Option<ContainerId>> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse().ok())))
}
