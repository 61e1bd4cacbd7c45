//! The log viewer: every progress event as one line with its time, stays smooth with 100,000
//! lines by rendering only the rows in view (fixed row height), follows new lines until the
//! user scrolls up, and marks stderr with a label as well as a colour.

use domain::event::{EventKind, LogStream, ProgressEvent};
use leptos::html;
use leptos::prelude::*;

/// Height of one row in pixels; `style/containers.css` sets the same.
const ROW_PX: f64 = 20.0;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 20;
/// Rows assumed visible before the viewport has been measured.
const DEFAULT_ROWS: f64 = 24.0;

#[component]
pub fn LogViewer(
    #[prop(into)] events: Signal<Vec<ProgressEvent>>,
    /// Label of the region, for screen readers and the heading above it.
    #[prop(default = "Log")]
    label: &'static str,
) -> impl IntoView {
    let viewport = NodeRef::<html::Div>::new();
    let scroll_top = RwSignal::new(0.0_f64);
    let height = RwSignal::new(DEFAULT_ROWS * ROW_PX);
    let following = RwSignal::new(true);
    // Where the viewer last scrolled itself; a position above it means the user scrolled up.
    let auto_top = StoredValue::new(0.0_f64);
    let count = Memo::new(move |_| events.with(Vec::len));

    let scroll_to_end = move || {
        request_animation_frame(move || {
            if let Some(el) = viewport.get_untracked() {
                let end = f64::from(el.scroll_height() - el.client_height()).max(0.0);
                auto_top.set_value(end);
                el.set_scroll_top(el.scroll_height());
            }
        });
    };
    Effect::new(move |_| {
        count.track();
        if following.get_untracked() {
            scroll_to_end();
        }
    });

    let on_scroll = move |_| {
        let Some(el) = viewport.get_untracked() else {
            return;
        };
        let top = f64::from(el.scroll_top());
        let client = f64::from(el.client_height());
        scroll_top.set(top);
        if client > 0.0 {
            height.set(client);
        }
        let at_end = top + client >= f64::from(el.scroll_height()) - ROW_PX;
        if at_end {
            following.set(true);
        } else if top + 1.0 < auto_top.get_value() {
            following.set(false);
        }
    };
    let follow = move |_| {
        following.set(true);
        scroll_to_end();
    };

    // Only the rows in view (and a margin) are in the document.
    let rows = move || {
        let first = window_first(scroll_top.get());
        let shown = (height.get() / ROW_PX).ceil() as usize + 2 * OVERSCAN;
        events.with(|all| {
            let end = (first + shown).min(all.len());
            all[first.min(end)..end].to_vec()
        })
    };
    let offset = move || {
        let first = window_first(scroll_top.get()).min(count.get());
        format!("translateY({}px)", first as f64 * ROW_PX)
    };
    let last_seq = move || events.with(|all| all.last().map_or(0, |e| e.seq));

    view! {
        <div class="log">
            <div class="log-head">
                <span class="muted">{move || format!("{} lines · times in UTC", count.get())}</span>
                <Show when=move || !following.get()>
                    <button class="button" type="button" data-testid="follow-log" on:click=follow>
                        "Follow log"
                    </button>
                </Show>
            </div>
            <div
                class="log-viewport"
                node_ref=viewport
                tabindex="0"
                role="region"
                aria-label=label
                data-testid="log-viewport"
                data-count=move || count.get().to_string()
                data-last-seq=move || last_seq().to_string()
                on:scroll=on_scroll
            >
                <div class="log-spacer" style:height=move || format!("{}px", count.get() as f64 * ROW_PX)>
                    <div class="log-window" style:transform=offset>
                        <For each=rows key=|event| event.seq let:event>
                            <LogLine event />
                        </For>
                    </div>
                </div>
            </div>
        </div>
    }
}

/// The index of the first rendered row for a scroll position.
fn window_first(scroll_top: f64) -> usize {
    ((scroll_top / ROW_PX).floor() as usize).saturating_sub(OVERSCAN)
}

/// One row: time, a tag for anything but plain output, the message.
#[component]
fn LogLine(event: ProgressEvent) -> impl IntoView {
    let (class, tag) = match (event.kind, event.stream) {
        (EventKind::Step, _) => ("log-line log-step", event.phase.label()),
        (EventKind::Complete, _) => ("log-line log-complete", "done"),
        (EventKind::Error, _) => ("log-line log-failed", "failed"),
        (EventKind::Log, Some(LogStream::Stderr)) => ("log-line log-stderr", "stderr"),
        (EventKind::Log, _) => ("log-line", ""),
    };
    view! {
        <div class=class data-seq=event.seq.to_string()>
            <time class="log-time" datetime=event.at.to_rfc3339()>{event.clock_time()}</time>
            <span class="log-tag">{tag}</span>
            <span class="log-text">{event.message}</span>
        </div>
    }
}
