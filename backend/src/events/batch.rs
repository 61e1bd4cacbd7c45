//! [`Batch`]: the events of one published flush, as every stream following the container gets
//! them, with room for their encoding so it is done once per batch and not once per stream.

use bytes::Bytes;
use domain::event::ProgressEvent;
use std::sync::OnceLock;
use std::time::Instant;

/// The events of one flush, in `seq` order, and their encoding once a stream has asked for it.
#[derive(Debug)]
pub struct Batch {
    events: Vec<ProgressEvent>,
    encoded: OnceLock<Bytes>,
    /// When the batch reached this process (the server's fan-out time starts here).
    received: Instant,
}

impl Batch {
    pub fn new(events: Vec<ProgressEvent>) -> Batch {
        Batch {
            events,
            encoded: OnceLock::new(),
            received: Instant::now(),
        }
    }

    /// When the batch reached this process.
    pub fn received(&self) -> Instant {
        self.received
    }

    pub fn events(&self) -> &[ProgressEvent] {
        &self.events
    }

    /// The batch encoded by `encode`, which runs for the first caller only; every stream gets
    /// the same bytes (a reference count, no copy). Every caller must pass the same encoding.
    pub fn encoded(&self, encode: impl FnOnce(&[ProgressEvent]) -> Bytes) -> Bytes {
        self.encoded.get_or_init(|| encode(&self.events)).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn the_encoding_runs_once_and_is_shared() {
        let batch = Batch::new(Vec::new());
        let runs = Cell::new(0);
        let encode = |_: &[ProgressEvent]| {
            runs.set(runs.get() + 1);
            Bytes::from_static(b"frames")
        };
        let first = batch.encoded(encode);
        let second = batch.encoded(encode);
        assert_eq!(runs.get(), 1);
        assert_eq!(first, second);
        assert_eq!(first.as_ptr(), second.as_ptr());
    }
}
