//! A container's progress as reactive state, fed by the browser's EventSource from
//! `GET /api/containers/{id}/progress`.
//!
//! Events arrive one `progress` message each and are buffered, then applied to the signals in
//! one update per animation-sized tick, so a replay of 100,000 lines costs a few hundred
//! renders, not 100,000. Events at or below the last `seq` seen are ignored (the server already
//! drops duplicates; a reconnect must not double a line either).
//!
//! The EventSource is closed when the stream ends after a terminal event: a container that was
//! retried has an old `error` followed by newer events, so the terminal event alone does not
//! end the page's interest.
//!
//! The server ends the stream when its session ends; EventSource then reconnects and is refused.
//! EventSource does not show the status, so a refused stream asks who is signed in, and goes to
//! the login page on `Unauthorized`.

use crate::api::session::who_am_i;
use crate::components::shell::go_to_login;
use crate::error::AppError;
use domain::ContainerId;
use domain::container::Phase;
use domain::event::{EventKind, ProgressEvent, ScriptProgress};
use leptos::prelude::*;
use std::time::Duration;

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamStatus {
    Connecting,
    Streaming,
    /// The last event is `complete`.
    Complete,
    /// The last event is `error`.
    Failed,
    /// The server refused or ended the stream without a terminal event and the browser gave up.
    Lost,
}

/// How long incoming events are gathered before the page is updated.
const FLUSH_AFTER: Duration = Duration::from_millis(40);

/// One container's progress, as signals the page components read.
#[derive(Clone, Copy)]
pub struct Progress {
    pub status: RwSignal<StreamStatus>,
    /// Every event received, in `seq` order, without duplicates.
    pub events: RwSignal<Vec<ProgressEvent>>,
    pub phase: RwSignal<Option<Phase>>,
    pub percent: RwSignal<u8>,
    pub script: RwSignal<Option<ScriptProgress>>,
    /// The newest event when it is terminal.
    pub terminal: RwSignal<Option<ProgressEvent>>,
    container: ContainerId,
    /// Events from this `seq` on belong to a later run: ignored, and the stream closed.
    until: Option<i64>,
    last_seq: StoredValue<i64>,
    pending: StoredValue<Vec<ProgressEvent>>,
    flush_scheduled: StoredValue<bool>,
    source: StoredValue<Option<Source>, LocalStorage>,
}

impl Progress {
    /// Opens the stream of `container` from its first event; closed when the owner is cleaned up.
    pub fn open(container: ContainerId) -> Progress {
        Self::open_range(container, 0, None)
    }

    /// Opens the stream of one run of `container`: the events after `after` and before
    /// `until` (the next run's first event), if there is a next run.
    pub fn open_range(container: ContainerId, after: i64, until: Option<i64>) -> Progress {
        let progress = Progress {
            status: RwSignal::new(StreamStatus::Connecting),
            events: RwSignal::new(Vec::new()),
            phase: RwSignal::new(None),
            percent: RwSignal::new(0),
            script: RwSignal::new(None),
            terminal: RwSignal::new(None),
            container,
            until,
            last_seq: StoredValue::new(after),
            pending: StoredValue::new(Vec::new()),
            flush_scheduled: StoredValue::new(false),
            source: StoredValue::new_local(None),
        };
        progress.connect();
        on_cleanup(move || progress.close());
        progress
    }

    /// (Re)connects after the last event received, e.g. after a retry or a lost connection.
    pub fn connect(self) {
        self.close();
        self.status.set(StreamStatus::Connecting);
        let after = self.last_seq.get_value();
        let url = if after > 0 {
            format!("/api/containers/{}/progress?after={after}", self.container)
        } else {
            format!("/api/containers/{}/progress", self.container)
        };
        match Source::open(&url, self) {
            Some(source) => self.source.set_value(Some(source)),
            None => self.status.set(StreamStatus::Lost),
        }
    }

    /// Closes the EventSource, if open.
    pub fn close(self) {
        // Called from cleanup too, when the stored value may already be disposed.
        if let Some(Some(source)) = self.source.try_update_value(Option::take) {
            source.close();
        }
    }

    /// The `seq` of the newest event received.
    pub fn last_seq(self) -> i64 {
        self.last_seq.get_value()
    }

    fn receive(self, event: ProgressEvent) {
        if event.seq <= self.last_seq.get_value() {
            return;
        }
        if self.until.is_some_and(|until| event.seq >= until) {
            // A later run's event: this run's log is complete.
            self.close();
            return;
        }
        self.last_seq.set_value(event.seq);
        self.pending.update_value(|p| p.push(event));
        if !self.flush_scheduled.get_value() {
            self.flush_scheduled.set_value(true);
            set_timeout(move || self.flush(), FLUSH_AFTER);
        }
    }

    /// Applies the buffered events to the signals in one update each.
    fn flush(self) {
        if self
            .flush_scheduled
            .try_update_value(|scheduled| *scheduled = false)
            .is_none()
        {
            return; // the page is gone
        }
        let batch = self
            .pending
            .try_update_value(std::mem::take)
            .unwrap_or_default();
        let Some(newest) = batch.last().cloned() else {
            return;
        };
        self.events.update(|all| all.extend(batch));
        self.phase.set(Some(newest.phase));
        self.percent.set(newest.percent);
        self.script.set(newest.script.clone());
        let status = match newest.kind {
            EventKind::Complete => StreamStatus::Complete,
            EventKind::Error => StreamStatus::Failed,
            EventKind::Step | EventKind::Log => StreamStatus::Streaming,
        };
        self.terminal.set(newest.is_terminal().then_some(newest));
        self.status.set(status);
    }

    /// The EventSource reported an error: the stream ended or the connection failed.
    fn on_error(self, closed_by_browser: bool) {
        let pending_terminal = self
            .pending
            .with_value(|p| p.last().map(ProgressEvent::is_terminal));
        let ended_on_terminal =
            pending_terminal.unwrap_or_else(|| self.terminal.with_untracked(Option::is_some));
        if ended_on_terminal {
            // The server ends the stream after the newest terminal event: stay closed.
            self.close();
        } else if closed_by_browser {
            self.close();
            self.status.set(StreamStatus::Lost);
            leptos::task::spawn_local(async {
                if let Err(AppError::Unauthorized) = who_am_i().await {
                    let here = web_sys::window()
                        .and_then(|w| w.location().pathname().ok())
                        .unwrap_or_default();
                    go_to_login(&here);
                }
            });
        } else {
            // EventSource reconnects by itself with Last-Event-ID.
            self.status.set(StreamStatus::Connecting);
        }
    }
}

/// The EventSource and the callbacks it holds; dropping it without [`Source::close`] would leave
/// the browser reconnecting.
struct Source {
    events: web_sys::EventSource,
    _on_progress: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_open: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>,
    _on_error: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>,
}

impl Source {
    fn open(url: &str, progress: Progress) -> Option<Source> {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;

        let events = web_sys::EventSource::new(url).ok()?;
        let on_progress = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |message: web_sys::MessageEvent| {
                let parsed = message
                    .data()
                    .as_string()
                    .and_then(|text| serde_json::from_str::<ProgressEvent>(&text).ok());
                if let Some(event) = parsed {
                    progress.receive(event);
                }
            },
        );
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            if progress.status.get_untracked() == StreamStatus::Connecting {
                progress.status.set(StreamStatus::Streaming);
            }
        });
        let source = events.clone();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            progress.on_error(source.ready_state() == web_sys::EventSource::CLOSED);
        });
        events
            .add_event_listener_with_callback("progress", on_progress.as_ref().unchecked_ref())
            .ok()?;
        events.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        events.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(Source {
            events,
            _on_progress: on_progress,
            _on_open: on_open,
            _on_error: on_error,
        })
    }

    fn close(&self) {
        self.events.set_onerror(None);
        self.events.set_onopen(None);
        self.events.close();
    }
}
