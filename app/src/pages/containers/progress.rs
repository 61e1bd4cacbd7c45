//! `/containers/:id/progress`: a creation as it happens. Connecting, streaming, then either the
//! services and credentials (complete) or the error with Retry and Delete (error). A reload
//! replays the whole history and carries on. `?run=N` shows one run (the creation is run 1,
//! updates follow): its events only, titled as an update when it is one.

use super::actions::ContainerActions;
use super::cancel::{CancelCreation, WorkerWait};
use super::container_id_param;
use super::log_view::LogViewer;
use super::services::{CredentialsList, ServicesList};
use super::stepper::Stepper;
use super::stream::{Progress, StreamStatus};
use crate::api::containers::get_container;
use crate::api::updates::container_runs;
use domain::ContainerId;
use domain::container::{Cancelled, Lifecycle};
use domain::run::RunKind;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ProgressPage() -> impl IntoView {
    let id = container_id_param();
    let query = use_query_map();
    let run = move || query.with(|q| q.get("run").and_then(|n| n.parse::<i32>().ok()));
    move || match (id.get(), run()) {
        (Some(id), None) => view! { <ProgressView id /> }.into_any(),
        (Some(id), Some(number)) => view! { <RunProgress id number /> }.into_any(),
        (None, _) => view! {
            <h1>"Container not found"</h1>
            <p><a href="/containers">"Back to the containers"</a></p>
        }
        .into_any(),
    }
}

/// One run's progress: its events only, from its first to the next run's first.
#[component]
fn RunProgress(id: ContainerId, number: i32) -> impl IntoView {
    let runs = LocalResource::new(move || container_runs(id));
    move || {
        runs.get().map(|result| {
            let runs = match result {
                Ok(runs) => runs,
                Err(e) => {
                    return view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }
                        .into_any();
                }
            };
            let Some(run) = runs.iter().find(|r| r.number == number) else {
                return view! {
                    <h1>"Run not found"</h1>
                    <p><a href=format!("/containers/{id}")>"Back to the container"</a></p>
                }
                .into_any();
            };
            let until = runs
                .iter()
                .find(|r| r.number == number + 1)
                .map(|r| r.first_seq);
            let progress = Progress::open_range(id, run.first_seq - 1, until);
            view! { <ProgressView id progress kind=run.kind /> }.into_any()
        })
    }
}

#[component]
fn ProgressView(
    id: ContainerId,
    #[prop(optional)] progress: Option<Progress>,
    #[prop(optional)] kind: Option<RunKind>,
) -> impl IntoView {
    let progress = progress.unwrap_or_else(|| Progress::open(id));
    let updating = kind == Some(RunKind::Update);
    let doing = if updating { "Updating" } else { "Creating" };
    let detail = LocalResource::new(move || get_container(id));
    // Services and credentials are found in the last phase: read them again once it is done.
    Effect::new(move |was_complete: Option<bool>| {
        let complete = progress.status.get() == StreamStatus::Complete;
        if complete && was_complete == Some(false) {
            detail.refetch();
        }
        complete
    });
    let hostname = move || {
        detail
            .get()
            .and_then(Result::ok)
            .map(|d| d.summary.hostname)
            .unwrap_or_default()
    };
    let container_href = format!("/containers/{id}");
    // A cancelled creation ends like a failed one (so Delete and Retry work); its message says.
    let cancelled = move || {
        progress
            .terminal
            .get()
            .is_some_and(|e| Cancelled::is_cancel_message(&e.message))
    };
    let running = move || {
        matches!(
            progress.status.get(),
            StreamStatus::Connecting | StreamStatus::Streaming
        )
    };
    let status_text = move || match progress.status.get() {
        StreamStatus::Connecting => "Connecting…",
        StreamStatus::Streaming => "Live",
        StreamStatus::Complete => "Complete",
        StreamStatus::Failed if cancelled() => "Cancelled",
        StreamStatus::Failed => "Failed",
        StreamStatus::Lost => "Disconnected",
    };
    let status_class = move || match progress.status.get() {
        StreamStatus::Complete => "stream-status stream-complete",
        StreamStatus::Failed | StreamStatus::Lost => "stream-status stream-failed",
        _ => "stream-status",
    };

    view! {
        <div class="page-head">
            <h1>{move || match progress.status.get() {
                StreamStatus::Complete => format!("{} is ready", hostname()),
                StreamStatus::Failed if cancelled() => format!("{doing} {} was cancelled", hostname()),
                StreamStatus::Failed => format!("{doing} {} failed", hostname()),
                _ => format!("{doing} {}", hostname()),
            }}</h1>
            <span class="page-links">
                <a href=container_href.clone()>"Container page"</a>
                <a href=format!("/containers/new?like={id}")>"Create another like this"</a>
            </span>
        </div>
        <section class="card progress-card" aria-labelledby="progress-heading">
            <div class="card-head">
                <h2 id="progress-heading">"Progress"</h2>
                <span class=status_class role="status" data-testid="stream-status">
                    {status_text}
                </span>
            </div>
            <Stepper progress />
            <Show when=running>
                <WorkerWait id />
                <Show when=move || !updating>
                    <CancelCreation id />
                </Show>
            </Show>
            <Show when=move || progress.status.get() == StreamStatus::Lost>
                <div class="banner banner-warn" role="alert">
                    <p>"The connection to the server was lost."</p>
                    <button class="button" type="button" on:click=move |_| progress.connect()>"Reconnect"</button>
                </div>
            </Show>
        </section>
        <Show when=move || progress.status.get() == StreamStatus::Complete>
            <CompletePanel id detail />
        </Show>
        <Show when=move || progress.status.get() == StreamStatus::Failed>
            <FailedPanel id progress updating />
        </Show>
        <section class="card" aria-labelledby="log-heading">
            <h2 id="log-heading">"Log"</h2>
            <LogViewer events=progress.events label=if updating { "Update log" } else { "Creation log" } />
        </section>
    }
}

type Detail =
    LocalResource<Result<crate::api::containers::ContainerDetail, crate::error::AppError>>;

/// The finished container: where to reach it and its credentials.
#[component]
fn CompletePanel(id: ContainerId, detail: Detail) -> impl IntoView {
    let href = format!("/containers/{id}");
    view! {
        <section class="card" aria-labelledby="ready-heading" data-testid="complete-panel">
            <div class="banner banner-ok" role="status">
                <h2 id="ready-heading">"Your container is ready"</h2>
                <p><a href=href>"Open the container's page"</a></p>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || detail.get().map(|result| match result {
                    Ok(d) => view! {
                        {d.summary.ip_address.clone().map(|ip| view! { <p>"Address: " <code>{ip}</code></p> })}
                        <h3>"Services"</h3>
                        <ServicesList services=d.services.clone() />
                        <h3>"Credentials"</h3>
                        <CredentialsList container=id names=d.credentials.clone() />
                    }.into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// The failure: its message, and Retry or Delete.
#[component]
fn FailedPanel(id: ContainerId, progress: Progress, updating: bool) -> impl IntoView {
    let message = move || {
        progress
            .terminal
            .get()
            .map(|e| e.message)
            .unwrap_or_default()
    };
    let cancelled = move || Cancelled::is_cancel_message(&message());
    // After a retry the stream goes on from the last event: the worker's new events follow.
    let on_changed = Callback::new(move |()| progress.connect());
    view! {
        <section class="card" aria-labelledby="failed-heading" data-testid="failed-panel">
            <div class="banner banner-error" role="alert">
                <h2 id="failed-heading">{move || match (cancelled(), updating) {
                    (true, _) => "Creation cancelled",
                    (false, true) => "Update failed",
                    (false, false) => "Creation failed",
                }}</h2>
                <p data-testid="failure-message">{message}</p>
                <p class="muted">"The log below shows what happened. Retry resumes after the last finished step."</p>
            </div>
            <ContainerActions id lifecycle=Lifecycle::Error on_changed show_power=false />
        </section>
    }
}
