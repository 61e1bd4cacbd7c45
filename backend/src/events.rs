//! Progress events of container creation: the worker's [`EventSink`] stores and publishes them,
//! the server's [`ProgressHub`] hands the published ones to every open progress stream.
//!
//! # Where events go
//! The `container_events` table is the record. A flush first inserts its events (one multi-row
//! INSERT), then publishes them, so whatever a reader received live is also in the table, and a
//! reader that missed a message (Redis reconnect, slow reader) reads the gap back from the table.
//!
//! # Wire format on Redis
//! Channel `container:{id}:progress` ([`channel`]). Each message is one flush: a JSON array of
//! [`ProgressEvent`]s, in `seq` order without gaps, e.g.
//! `[{"seq":41,"kind":"log","phase":"sync","percent":61,"message":"…","stream":"stdout","at":"…"}]`.
//! Ended sessions go on [`SESSIONS_CHANNEL`] ([`announce_session_end`]), so that open streams of
//! a session end with it.

mod batch;
mod hub;
mod mailbox;
mod redact;
mod session_end;
mod sink;

pub use batch::Batch;
pub use hub::{HubError, HubMessage, ProgressHub, Subscription};
pub use mailbox::DirectSink;
pub use redact::{REDACTED, Redactor};
pub use session_end::{
    SESSIONS_CHANNEL, SessionEnd, SessionNews, SessionWatch, announce_session_end,
};
pub use sink::{EventError, EventSink, SinkConfig};

use domain::ContainerId;
use domain::event::ProgressEvent;

/// The pub/sub channel of a container's live events.
pub fn channel(container_id: ContainerId) -> String {
    format!("container:{container_id}:progress")
}

/// One message on the channel: the events of one flush.
pub fn encode(events: &[ProgressEvent]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

/// The events of one message.
pub fn decode(payload: &str) -> Result<Vec<ProgressEvent>, serde_json::Error> {
    serde_json::from_str(payload)
}
