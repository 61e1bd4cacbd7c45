//! The node's view of containers, kept live while a page is open: running / stopped / missing /
//! node unreachable, uptime, CPU, memory and root disk. The pages ask the server every
//! [`POLL_EVERY`]; the server answers from pollers it shares between every viewer.

use crate::api::status::{NodeView, Usage, container_live_status, live_statuses};
use domain::ContainerId;
use domain::container::Lifecycle;
use leptos::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

/// How often an open page asks for the live status.
const POLL_EVERY: Duration = Duration::from_secs(2);

/// What a page knows of the node's view, and why the last question failed, if it did.
pub struct Live<T: Send + Sync + 'static> {
    pub value: RwSignal<T>,
    pub error: RwSignal<Option<String>>,
}

impl<T: Send + Sync + 'static> Clone for Live<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Live<T> {}

/// Every container's node view, asked for now and every [`POLL_EVERY`] while the caller lives.
pub fn use_live_list() -> Live<HashMap<ContainerId, NodeView>> {
    let live = Live {
        value: RwSignal::new(HashMap::new()),
        error: RwSignal::new(None),
    };
    let fetch = Action::new_local(|_: &()| live_statuses());
    Effect::new(move || match fetch.value().get() {
        Some(Ok(list)) => {
            live.value
                .set(list.into_iter().map(|s| (s.id, s.view)).collect());
            live.error.set(None);
        }
        Some(Err(e)) => live.error.set(Some(e.to_string())),
        None => {}
    });
    poll_while_open(move || fetch.dispatch(()), fetch.pending());
    live
}

/// One container's node view (from its `status/current`), asked for like [`use_live_list`].
pub fn use_live_one(id: ContainerId) -> Live<Option<NodeView>> {
    let live = Live {
        value: RwSignal::new(None),
        error: RwSignal::new(None),
    };
    let fetch = Action::new_local(move |_: &()| container_live_status(id));
    Effect::new(move || match fetch.value().get() {
        Some(Ok(status)) => {
            live.value.set(Some(status.view));
            live.error.set(None);
        }
        Some(Err(e)) => live.error.set(Some(e.to_string())),
        None => {}
    });
    poll_while_open(move || fetch.dispatch(()), fetch.pending());
    live
}

/// Runs `ask` now and every [`POLL_EVERY`] (skipping a turn while an answer is awaited) until
/// the calling component is gone.
fn poll_while_open<R: 'static>(ask: impl Fn() -> R + Copy + 'static, pending: Memo<bool>) {
    ask();
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if !pending.get_untracked() {
                ask();
            }
        },
        POLL_EVERY,
    ) {
        on_cleanup(move || handle.clear());
    }
}

/// A node view as a badge: an icon and words, not colour alone; the reason as its title.
#[component]
pub fn NodeViewBadge(view: NodeView, lifecycle: Lifecycle) -> impl IntoView {
    if lifecycle == Lifecycle::Creating && view == NodeView::Missing {
        return view! { <span class="muted" data-node-state="not-created">"not created yet"</span> }
            .into_any();
    }
    let (class, icon) = match &view {
        NodeView::Checking => ("badge badge-checking", "…"),
        NodeView::Running(_) => ("badge badge-running", "▶"),
        NodeView::Stopped => ("badge badge-stopped", "■"),
        NodeView::Missing => ("badge badge-error", "?"),
        NodeView::Unreachable { .. } => ("badge badge-unreachable", "⚠"),
    };
    let title = match &view {
        NodeView::Unreachable { reason } => Some(reason.clone()),
        NodeView::Missing => Some(
            "No container with this VMID and hostname exists on the node: it was deleted or \
             replaced outside infrahaus."
                .to_owned(),
        ),
        _ => None,
    };
    view! {
        <span class=class data-node-state=view.key() title=title>
            <span aria-hidden="true">{icon}</span>
            " "
            {view.label()}
        </span>
    }
    .into_any()
}

/// One usage figure of a view, or "—" when the container does not run.
pub fn figure(view: Option<&NodeView>, text: fn(&Usage) -> String) -> String {
    view.and_then(NodeView::usage)
        .map_or_else(|| "—".to_owned(), text)
}

/// Seconds of uptime for the `data-uptime-secs` attribute (tests compare them); none when the
/// container does not run.
pub fn uptime_secs(view: Option<&NodeView>) -> Option<String> {
    view.and_then(NodeView::usage)
        .map(|u| u.uptime_secs.to_string())
}

/// The container page's "On the node" facts.
#[component]
pub fn NodeStatus(live: Live<Option<NodeView>>, lifecycle: Lifecycle) -> impl IntoView {
    let view = move || live.value.get();
    let fact = move |text: fn(&Usage) -> String| move || figure(view().as_ref(), text);
    view! {
        <section class="card" aria-labelledby="node-status-heading">
            <h2 id="node-status-heading">"On the node"</h2>
            <dl class="facts" data-testid="node-status">
                <dt>"State"</dt>
                <dd>
                    {move || view! {
                        <NodeViewBadge view=view().unwrap_or(NodeView::Checking) lifecycle />
                    }}
                </dd>
                <dt>"Uptime"</dt>
                <dd data-uptime-secs=move || uptime_secs(view().as_ref())>{fact(Usage::uptime_text)}</dd>
                <dt>"CPU"</dt>
                <dd>{fact(Usage::cpu_text)}</dd>
                <dt>"Memory"</dt>
                <dd>{fact(Usage::mem_text)}</dd>
                <dt>"Root disk"</dt>
                <dd>{fact(Usage::disk_text)}</dd>
            </dl>
            {move || match view() {
                Some(NodeView::Unreachable { reason }) => Some(view! {
                    <p class="banner banner-warn" role="status">{reason}</p>
                }.into_any()),
                Some(NodeView::Missing) if lifecycle != Lifecycle::Creating => Some(view! {
                    <p class="banner banner-warn" role="status">
                        "This container no longer exists on its node: it was deleted or replaced \
                         outside infrahaus. Delete it here to forget it."
                    </p>
                }.into_any()),
                _ => None,
            }}
            {move || live.error.get().map(|e| view! {
                <p class="banner banner-error" role="alert">{format!("Live status unavailable: {e}")}</p>
            })}
        </section>
    }
}
