//! [`DirectFeed`]: the part of a lean HTTP/1.1 stream's feed that the progress hub may advance
//! from its own task: while the feed waits for live events with everything before them sent, the
//! hub writes a published batch that continues the stream's sequence straight to the client's
//! [`LeanSocket`], and the stream's task is not woken. At 1,000 streams on one container this
//! spares 1,000 wake-ups, polls through the response body and new waits per event.
//!
//! The hub offers every batch ([`DirectSink::offer`]); the feed takes it only when all of these
//! hold, and otherwise the batch goes to the stream's mailbox and its task handles it as before:
//! the feed is parked (its task waits in [`super::Feed`]'s live wait, nothing queued), the batch
//! starts right after the last event sent, none of its events ends the run (the task ends the
//! stream), the session has not expired (the hub checks that the session was not ended), and
//! the socket takes the bytes without waiting.

use super::{batch_frames, shared_batch_sent};
use crate::lean_socket::LeanSocket;
use backend::events::{Batch, DirectSink};
use domain::event::ProgressEvent;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::time::Instant;

/// A lean stream's feed, as far as the hub may advance it.
pub(super) struct DirectFeed {
    socket: Arc<LeanSocket>,
    /// When the stream's session expires: nothing is written from then on.
    expires: Instant,
    waiting: Mutex<Waiting>,
}

/// Where a parked feed stands.
struct Waiting {
    /// The feed's task waits for live events and has sent everything it had.
    parked: bool,
    /// The last `seq` sent.
    last_seq: i64,
    /// When the stream last sent something (for a batch: when it reached the server).
    last_sent: Instant,
}

impl DirectFeed {
    pub(super) fn new(socket: Arc<LeanSocket>, expires: Instant) -> DirectFeed {
        DirectFeed {
            socket,
            expires,
            waiting: Mutex::new(Waiting {
                parked: false,
                last_seq: 0,
                last_sent: Instant::now(),
            }),
        }
    }

    /// The feed's task is about to wait for live events, everything up to `last_seq` sent: from
    /// now on the hub may send batches that continue it.
    pub(super) fn park(&self, last_seq: i64, last_sent: Instant) {
        let mut waiting = self.lock();
        waiting.parked = true;
        waiting.last_seq = last_seq;
        waiting.last_sent = last_sent;
    }

    /// The feed's task runs again: the hub sends nothing more until it parks. Returns the last
    /// `seq` sent and when the stream last sent something, the hub's writes included.
    pub(super) fn unpark(&self) -> (i64, Instant) {
        let mut waiting = self.lock();
        waiting.parked = false;
        (waiting.last_seq, waiting.last_sent)
    }

    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl DirectSink for DirectFeed {
    fn offer(&self, batch: &Arc<Batch>) -> bool {
        let mut waiting = self.lock();
        if !waiting.parked {
            return false;
        }
        let events = batch.events();
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return true;
        };
        if last.seq <= waiting.last_seq {
            // Sent already (a message that overlaps a replay): nothing to do.
            return true;
        }
        if first.seq != waiting.last_seq + 1
            || events.iter().any(ProgressEvent::is_terminal)
            || Instant::now() >= self.expires
        {
            return false;
        }
        if !self.socket.try_write_body(&batch.encoded(batch_frames)) {
            return false;
        }
        waiting.last_seq = last.seq;
        waiting.last_sent = shared_batch_sent(batch);
        true
    }
}
