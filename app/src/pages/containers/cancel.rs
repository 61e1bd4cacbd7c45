//! On the progress page while a creation runs: "Waiting for a worker" when no worker holds it
//! (polled every few seconds), and "Cancel creation" with a confirmation.

use crate::api::cancel::{CancelReply, WorkerState, cancel_creation, creation_worker};
use crate::components::field::ErrorBanner;
use domain::ContainerId;
use leptos::prelude::*;
use std::time::Duration;

/// How often the page asks whether a worker holds the creation.
const POLL_EVERY: Duration = Duration::from_secs(3);

/// A banner while no worker holds the creation; nothing otherwise.
#[component]
pub fn WorkerWait(id: ContainerId) -> impl IntoView {
    let state = LocalResource::new(move || creation_worker(id));
    if let Ok(handle) = set_interval_with_handle(move || state.refetch(), POLL_EVERY) {
        on_cleanup(move || handle.clear());
    }
    let waiting = move || matches!(state.get(), Some(Ok(WorkerState::Waiting)));
    view! {
        <Show when=waiting>
            <div class="banner banner-warn" role="status" data-testid="worker-wait">
                <p>
                    "Waiting for a worker: none is working on this creation right now. It goes on \
                     from the last finished step as soon as one takes it (a stopped worker's \
                     creations are taken over within about ten seconds)."
                </p>
            </div>
        </Show>
    }
}

/// "Cancel creation", confirmed first; says what happens after.
#[component]
pub fn CancelCreation(id: ContainerId) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let cancel = Action::new_local(move |_: &()| cancel_creation(id));
    let requested = move || matches!(cancel.value().get(), Some(Ok(CancelReply::Requested)));
    Effect::new(move || {
        if let Some(Err(e)) = cancel.value().get() {
            message.set(Some(e.to_string()));
        }
        if cancel.value().get().is_some() {
            confirming.set(false);
        }
    });
    view! {
        <div class="container-actions" data-testid="cancel-creation">
            <ErrorBanner message=message />
            <div class="actions">
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button
                            class="button button-danger"
                            type="button"
                            disabled=move || cancel.pending().get() || requested()
                            on:click=move |_| {
                                message.set(None);
                                confirming.set(true);
                            }
                        >
                            "Cancel creation"
                        </button>
                    }
                >
                    <span role="alert">
                        "Stop this creation? A container already made on the node is stopped and kept, to delete or retry."
                    </span>
                    <button class="button button-danger" type="button" disabled=move || cancel.pending().get() on:click=move |_| { cancel.dispatch(()); }>
                        {move || if cancel.pending().get() { "Cancelling…" } else { "Yes, cancel it" }}
                    </button>
                    <button class="button" type="button" on:click=move |_| confirming.set(false)>"Keep creating"</button>
                </Show>
                <Show when=requested>
                    <span class="muted" role="status">"Cancelling: the worker stops at the next safe point."</span>
                </Show>
            </div>
        </div>
    }
}
