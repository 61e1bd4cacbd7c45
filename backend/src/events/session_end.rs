//! Ended sessions end their open progress streams, in every server process.
//!
//! Whoever ends a session (logout, password reset) deletes its rows, then calls
//! [`announce_session_end`]. Each process's [`ProgressHub`](super::ProgressHub) hears it on its one
//! subscriber connection and tells the [`SessionWatch`] of each stream the end covers; after a
//! reconnect (a message may have been missed) every watch says [`SessionNews::Unsure`] and its
//! stream checks the database.
//!
//! # Wire format on Redis
//! Channel [`SESSIONS_CHANNEL`]; each message is `session:HEX` (the SHA-256 of one session's
//! token, as stored in `sessions.token_hash`) or `user:UUID` (every session of that user).

use crate::redis::RedisClient;
use domain::UserId;
use fred::prelude::*;
use futures::task::AtomicWaker;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Poll;

/// The pub/sub channel of ended sessions.
pub const SESSIONS_CHANNEL: &str = "infrahaus:sessions:ended";

/// Which sessions ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// One session, by the hash of its token (logout).
    Session(Vec<u8>),
    /// Every session of a user (password reset).
    User(UserId),
}

impl SessionEnd {
    /// The message on [`SESSIONS_CHANNEL`].
    pub fn encode(&self) -> String {
        match self {
            SessionEnd::Session(hash) => format!("session:{}", hex::encode(hash)),
            SessionEnd::User(id) => format!("user:{id}"),
        }
    }

    /// The ended sessions a message names.
    pub fn decode(message: &str) -> Option<SessionEnd> {
        match message.split_once(':')? {
            ("session", hash) => hex::decode(hash).ok().map(SessionEnd::Session),
            ("user", id) => id.parse().ok().map(SessionEnd::User),
            _ => None,
        }
    }

    /// Whether the session with `hash`, of `user`, is among these.
    pub fn covers(&self, user: UserId, hash: &[u8]) -> bool {
        match self {
            SessionEnd::Session(ended) => ended.as_slice() == hash,
            SessionEnd::User(ended) => *ended == user,
        }
    }
}

/// Tells every server process to end the progress streams of `end`; call it after the session
/// rows are gone, so a stream that checks the database agrees.
pub async fn announce_session_end(
    redis: &RedisClient,
    end: SessionEnd,
) -> Result<(), fred::error::Error> {
    let _receivers: i64 = redis.publish(SESSIONS_CHANNEL, end.encode()).await?;
    Ok(())
}

/// The session watches of one process's open streams, so that the hub can tell exactly the
/// streams an ended session covers. A stream waits on its own watch without touching anything
/// shared: waiting registers its waker in the watch, which only the hub's rare signals read.
#[derive(Default)]
pub(super) struct SessionWatches {
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Watched>>>,
}

/// What one watch has been told, and the stream to wake.
struct Watched {
    user: UserId,
    hash: Vec<u8>,
    /// [`NOTHING`], [`UNSURE`] (cleared when the stream reads it) or [`ENDED`] (stays).
    news: AtomicU8,
    waker: AtomicWaker,
}

const NOTHING: u8 = 0;
const UNSURE: u8 = 1;
const ENDED: u8 = 2;

impl SessionWatches {
    /// A watch on the session with `hash`, of `user`, from now on.
    pub(super) fn watch(self: &Arc<Self>, user: UserId, hash: Vec<u8>) -> SessionWatch {
        let watched = Arc::new(Watched {
            user,
            hash,
            news: AtomicU8::new(NOTHING),
            waker: AtomicWaker::new(),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, watched.clone());
        SessionWatch {
            watched,
            id,
            watches: Arc::downgrade(self),
        }
    }

    /// Tells the watches `end` covers that their session ended.
    pub(super) fn end(&self, end: &SessionEnd) {
        for watched in self.lock().values() {
            if end.covers(watched.user, &watched.hash) {
                watched.news.store(ENDED, Ordering::Release);
                watched.waker.wake();
            }
        }
    }

    /// Tells every watch that an ended session may have been missed (a reconnect, a malformed
    /// message), so its stream checks its session in the database.
    pub(super) fn recheck_all(&self) {
        for watched in self.lock().values() {
            // An ended session stays ended.
            let _ =
                watched
                    .news
                    .compare_exchange(NOTHING, UNSURE, Ordering::AcqRel, Ordering::Acquire);
            watched.waker.wake();
        }
    }

    /// Open watches.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Watched>>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What a [`SessionWatch`] learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionNews {
    /// The session was ended.
    Ended,
    /// A message may have been missed: check the session in the database.
    Unsure,
}

/// One stream's watch on its own session; dropping it stops the watch.
pub struct SessionWatch {
    watched: Arc<Watched>,
    id: u64,
    watches: Weak<SessionWatches>,
}

impl SessionWatch {
    /// Waits until the session ended or a message may have been missed; cancel-safe, and
    /// waiting again after a cancel costs no lock.
    pub async fn recv(&mut self) -> SessionNews {
        std::future::poll_fn(|cx| {
            // Registered before reading, so news stored after the read wakes this task.
            self.watched.waker.register(cx.waker());
            match self.watched.news.load(Ordering::Acquire) {
                ENDED => Poll::Ready(SessionNews::Ended),
                UNSURE => match self.watched.news.compare_exchange(
                    UNSURE,
                    NOTHING,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => Poll::Ready(SessionNews::Unsure),
                    Err(_) => Poll::Ready(SessionNews::Ended),
                },
                _ => Poll::Pending,
            }
        })
        .await
    }

    /// The hash of the watched session's token.
    pub fn session_hash(&self) -> &[u8] {
        &self.watched.hash
    }

    /// A handle that tells, without waiting or taking the news, whether this watch has any.
    pub(super) fn quiet(&self) -> SessionQuiet {
        SessionQuiet(self.watched.clone())
    }
}

/// Whether a [`SessionWatch`] has news, read by the hub before it writes to the stream's client
/// itself (see [`super::DirectSink`]).
#[derive(Clone)]
pub(super) struct SessionQuiet(Arc<Watched>);

impl SessionQuiet {
    /// True while the session has neither ended nor may have (news not yet read counts).
    pub(super) fn is_quiet(&self) -> bool {
        self.0.news.load(Ordering::Acquire) == NOTHING
    }
}

impl Drop for SessionWatch {
    fn drop(&mut self) {
        if let Some(watches) = self.watches.upgrade() {
            watches.lock().remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_match_their_sessions() {
        let user = UserId::new_random();
        let one = SessionEnd::Session(vec![0xab, 0x01]);
        assert_eq!(one.encode(), "session:ab01");
        for end in [one.clone(), SessionEnd::User(user)] {
            assert_eq!(SessionEnd::decode(&end.encode()), Some(end));
        }
        assert!(one.covers(user, &[0xab, 0x01]));
        assert!(!one.covers(user, &[0xab]));
        assert!(SessionEnd::User(user).covers(user, &[1]));
        assert!(!SessionEnd::User(UserId::new_random()).covers(user, &[1]));
        for bad in ["", "session:zz", "user:nope", "group:1"] {
            assert_eq!(SessionEnd::decode(bad), None);
        }
    }

    /// Whether `watch` has news right now (polled once, without waiting).
    fn news_now(watch: &mut SessionWatch) -> Option<SessionNews> {
        use futures::FutureExt as _;
        watch.recv().now_or_never()
    }

    #[test]
    fn an_ended_session_reaches_only_the_watches_it_covers_and_stays_ended() {
        let watches = Arc::new(SessionWatches::default());
        let (alice, bob) = (UserId::new_random(), UserId::new_random());
        let mut alice_laptop = watches.watch(alice, vec![1]);
        let mut alice_phone = watches.watch(alice, vec![2]);
        let mut bob_laptop = watches.watch(bob, vec![3]);
        assert_eq!(news_now(&mut alice_laptop), None);

        watches.end(&SessionEnd::Session(vec![1]));
        assert_eq!(news_now(&mut alice_laptop), Some(SessionNews::Ended));
        assert_eq!(news_now(&mut alice_laptop), Some(SessionNews::Ended));
        assert_eq!(news_now(&mut alice_phone), None);

        watches.end(&SessionEnd::User(alice));
        assert_eq!(news_now(&mut alice_phone), Some(SessionNews::Ended));
        assert_eq!(news_now(&mut bob_laptop), None);
    }

    #[test]
    fn a_recheck_is_told_once_and_does_not_undo_an_end() {
        let watches = Arc::new(SessionWatches::default());
        let user = UserId::new_random();
        let mut open = watches.watch(user, vec![1]);
        let mut ended = watches.watch(user, vec![2]);
        watches.end(&SessionEnd::Session(vec![2]));
        watches.recheck_all();
        assert_eq!(news_now(&mut open), Some(SessionNews::Unsure));
        assert_eq!(news_now(&mut open), None);
        assert_eq!(news_now(&mut ended), Some(SessionNews::Ended));
    }

    #[tokio::test]
    async fn a_waiting_stream_is_woken_and_a_dropped_watch_is_forgotten() {
        let watches = Arc::new(SessionWatches::default());
        let user = UserId::new_random();
        let mut watch = watches.watch(user, vec![7]);
        let waiting = tokio::spawn(async move { watch.recv().await });
        tokio::task::yield_now().await;
        watches.end(&SessionEnd::User(user));
        let news = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the waiting stream is woken")
            .unwrap();
        assert_eq!(news, SessionNews::Ended);
        assert_eq!(watches.len(), 0, "the watch went with its task");
    }
}
