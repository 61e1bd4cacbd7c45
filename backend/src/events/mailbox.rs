//! [`Mailbox`]: one stream's messages from the [`ProgressHub`](super::ProgressHub), and the
//! [`DirectSink`] through which a stream that waits in step takes a published batch in the hub's
//! own task, without being woken.
//!
//! Fanning an event out to 1,000 streams by waking 1,000 tasks costs each of them a wake-up, a
//! poll through its response body and a new wait, about as much CPU as the write itself. A stream
//! whose connection can be written from anywhere (the server's lean HTTP/1.1 streams) registers a
//! sink; while it waits with everything sent, the hub writes the batch to its client at once and
//! the stream's task sleeps on. Whatever the sink declines goes to the mailbox as before.

use super::batch::Batch;
use super::hub::HubMessage;
use super::session_end::SessionQuiet;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};

/// Messages a stream may leave unread before it is told to resync instead. Each message is one
/// flush of the worker's sink (up to 200 lines), so 16 is 3,200 lines.
pub(super) const CAPACITY: usize = 16;

/// A stream that can send a published batch to its client outside its own task.
pub trait DirectSink: Send + Sync {
    /// Sends `batch` to the client now if the stream waits with everything before it sent and
    /// its connection takes the bytes without waiting; true when it did (the batch is then not
    /// delivered to the stream's mailbox), false to leave it to the stream's task.
    fn offer(&self, batch: &Arc<Batch>) -> bool;
}

/// The messages one stream has not read yet, and its task's waker.
#[derive(Default)]
pub(super) struct Mailbox {
    state: Mutex<State>,
    direct: OnceLock<Direct>,
}

#[derive(Default)]
struct State {
    messages: VecDeque<HubMessage>,
    waker: Option<Waker>,
}

/// A stream's sink and whether its session is still quiet (a stream whose session may have
/// ended is not written to: its task decides).
struct Direct {
    sink: Arc<dyn DirectSink>,
    session: SessionQuiet,
}

impl Mailbox {
    /// Lets `sink` take published batches while `session` has no news.
    pub(super) fn set_direct(&self, sink: Arc<dyn DirectSink>, session: SessionQuiet) {
        let _ = self.direct.set(Direct { sink, session });
    }

    /// Hands `message` to the stream: to its sink when that takes it, else to the mailbox.
    /// The hub delivers one message at a time to a mailbox, so a mailbox found empty stays empty
    /// (but for a resync, which a batch that continues the stream's sequence may overtake) until
    /// the sink has answered.
    pub(super) fn deliver(&self, message: &HubMessage) {
        if let (HubMessage::Events(batch), Some(direct)) = (message, self.direct.get()) {
            let nothing_waiting = self.lock().messages.is_empty();
            if nothing_waiting && direct.session.is_quiet() && direct.sink.offer(batch) {
                return;
            }
        }
        self.push(message.clone());
    }

    /// Queues `message` and wakes the stream; a stream [`CAPACITY`] messages behind is told to
    /// resync instead.
    pub(super) fn push(&self, message: HubMessage) {
        let waker = {
            let mut state = self.lock();
            if state.messages.len() >= CAPACITY {
                state.messages.clear();
                state.messages.push_back(HubMessage::Resync);
            } else {
                state.messages.push_back(message);
            }
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The next message, or the task registered to be woken by the next one.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<HubMessage> {
        let mut state = self.lock();
        if let Some(message) = state.messages.pop_front() {
            return Poll::Ready(message);
        }
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next message if one is waiting.
    pub(super) fn try_recv(&self) -> Option<HubMessage> {
        self.lock().messages.pop_front()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::super::session_end::{SessionEnd, SessionWatches};
    use super::*;
    use domain::UserId;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A sink that takes batches while `open`, counting them.
    #[derive(Default)]
    struct CountingSink {
        open: AtomicBool,
        taken: AtomicUsize,
    }

    impl DirectSink for CountingSink {
        fn offer(&self, _batch: &Arc<Batch>) -> bool {
            let open = self.open.load(Ordering::SeqCst);
            if open {
                self.taken.fetch_add(1, Ordering::SeqCst);
            }
            open
        }
    }

    fn batch() -> HubMessage {
        HubMessage::Events(Arc::new(Batch::new(Vec::new())))
    }

    fn is_resync(message: Option<HubMessage>) -> bool {
        matches!(message, Some(HubMessage::Resync))
    }

    #[test]
    fn a_stream_that_falls_behind_is_told_to_resync() {
        let mailbox = Mailbox::default();
        for _ in 0..CAPACITY {
            mailbox.deliver(&batch());
        }
        assert!(matches!(mailbox.try_recv(), Some(HubMessage::Events(_))));
        mailbox.deliver(&batch());
        mailbox.deliver(&batch());
        assert!(
            is_resync(mailbox.try_recv()),
            "16 unread messages and one more"
        );
        assert!(
            mailbox.try_recv().is_none(),
            "the resync replaces what was waiting"
        );
    }

    #[test]
    fn a_sink_takes_batches_only_while_nothing_waits_and_the_session_is_quiet() {
        let watches = Arc::new(SessionWatches::default());
        let user = UserId::new_random();
        let watch = watches.watch(user, vec![1]);
        let sink = Arc::new(CountingSink::default());
        let mailbox = Mailbox::default();
        mailbox.set_direct(sink.clone(), watch.quiet());

        mailbox.deliver(&batch());
        assert!(mailbox.try_recv().is_some(), "declined: in the mailbox");

        sink.open.store(true, Ordering::SeqCst);
        mailbox.deliver(&batch());
        assert_eq!(sink.taken.load(Ordering::SeqCst), 1);
        assert!(mailbox.try_recv().is_none(), "taken: not in the mailbox");

        mailbox.push(HubMessage::Resync);
        mailbox.deliver(&batch());
        assert_eq!(
            sink.taken.load(Ordering::SeqCst),
            1,
            "a message was waiting"
        );
        assert!(is_resync(mailbox.try_recv()));
        assert!(mailbox.try_recv().is_some(), "the batch after it");

        watches.end(&SessionEnd::User(user));
        mailbox.deliver(&batch());
        assert_eq!(sink.taken.load(Ordering::SeqCst), 1, "the session ended");
        assert!(mailbox.try_recv().is_some());
        assert!(mailbox.try_recv().is_none());
    }

    #[tokio::test]
    async fn a_waiting_stream_is_woken_by_a_message() {
        let mailbox = Arc::new(Mailbox::default());
        let waiting = {
            let mailbox = mailbox.clone();
            tokio::spawn(async move { std::future::poll_fn(|cx| mailbox.poll_recv(cx)).await })
        };
        tokio::task::yield_now().await;
        mailbox.deliver(&HubMessage::Resync);
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the waiting stream is woken")
            .unwrap();
        assert!(matches!(message, HubMessage::Resync));
    }
}
