//! [`ProgressHub`]: one Redis subscriber connection per server process, shared by every open
//! progress stream.
//!
//! Each container channel with open streams has one entry: the [`Mailbox`] of each of its
//! streams. The first stream SUBSCRIBEs the channel, the last one to go UNSUBSCRIBEs it (from
//! its drop guard); a per-channel gate runs those two in order. A published batch goes to each
//! stream's [`DirectSink`](super::DirectSink) when it has one that takes it, else to its
//! mailbox. A reader that lags behind, and every reader after a reconnect (once the channels are
//! subscribed again), is told to [`HubMessage::Resync`] from the database, so no event is lost in
//! between.
//!
//! The same connection subscribes [`SESSIONS_CHANNEL`] once, at start, and tells the
//! [`SessionWatch`] of each stream an ended session covers; after a lag or a reconnect every
//! watch is told to recheck.

use super::batch::Batch;
use super::mailbox::{DirectSink, Mailbox};
use super::session_end::{SessionEnd, SessionWatch, SessionWatches};
use super::{SESSIONS_CHANNEL, channel, decode};
use crate::redis::{RedisConnectError, SubscriberClient};
use domain::{ContainerId, UserId};
use fred::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::broadcast;

/// Streams on one channel from which a message's fan-out is shared out among the runtime's
/// worker threads (each direct write is a system call of a few microseconds).
const SHARED_OUT_FROM: usize = 256;

/// What a stream receives.
#[derive(Clone, Debug)]
pub enum HubMessage {
    /// The events of one flush, in `seq` order, shared by every stream (encoded once).
    Events(Arc<Batch>),
    /// Messages may have been missed: read what is new from the database.
    Resync,
}

/// Why the hub could not start or a channel could not be subscribed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Connect(#[from] RedisConnectError),
    #[error("Redis unreachable: could not subscribe to progress events: {0}")]
    Unreachable(String),
}

/// Hands published progress events to the streams that follow each container; cheap to clone.
#[derive(Clone)]
pub struct ProgressHub {
    inner: Arc<Inner>,
}

struct Inner {
    subscriber: SubscriberClient,
    channels: Mutex<HashMap<String, Channel>>,
    sessions: Arc<SessionWatches>,
    /// The worker threads of the runtime the hub runs on (a large fan-out is shared among them).
    workers: usize,
}

struct Channel {
    /// One per open stream.
    mailboxes: Vec<Arc<Mailbox>>,
    gate: Gate,
}

/// Whether Redis has a channel subscribed; held while subscribing or unsubscribing it, so the
/// two run in order.
type Gate = Arc<tokio::sync::Mutex<bool>>;

/// A stream's place on a channel; dropping it releases the channel.
pub struct Subscription {
    release: Release,
}

impl Subscription {
    /// The next message; a reader that fell behind gets [`HubMessage::Resync`]. Cancel-safe.
    pub async fn recv(&mut self) -> HubMessage {
        std::future::poll_fn(|cx| self.release.mailbox.poll_recv(cx)).await
    }

    /// The next message if one is waiting, so a stream can send everything published since it
    /// last woke up in one write.
    pub fn try_recv(&mut self) -> Option<HubMessage> {
        self.release.mailbox.try_recv()
    }

    /// From now on, published batches are offered to `sink` first while the session `session`
    /// watches has no news; what it declines arrives here as before.
    pub fn set_direct(&self, sink: Arc<dyn DirectSink>, session: &SessionWatch) {
        self.release.mailbox.set_direct(sink, session.quiet());
    }
}

impl ProgressHub {
    /// Connects the process's subscriber client and starts dispatching.
    pub async fn connect(redis_url: &str) -> Result<ProgressHub, HubError> {
        ProgressHub::start(crate::redis::connect_subscriber(redis_url).await?).await
    }

    /// A hub on `subscriber`, which nothing else may use; returns once ended sessions reach it.
    pub async fn start(subscriber: SubscriberClient) -> Result<ProgressHub, HubError> {
        let inner = Arc::new(Inner {
            subscriber,
            channels: Mutex::new(HashMap::new()),
            sessions: Arc::default(),
            workers: tokio::runtime::Handle::current().metrics().num_workers(),
        });
        tokio::spawn(dispatch(Arc::downgrade(&inner)));
        tokio::spawn(resync_after_reconnect(Arc::downgrade(&inner)));
        inner
            .subscriber
            .subscribe(SESSIONS_CHANNEL)
            .await
            .map_err(|e| HubError::Unreachable(e.to_string()))?;
        Ok(ProgressHub { inner })
    }

    /// Watches the session whose token hashes to `session_hash`, from now on.
    pub fn watch_session(&self, user: UserId, session_hash: Vec<u8>) -> SessionWatch {
        self.inner.sessions.watch(user, session_hash)
    }

    /// Follows a container's channel. Returns once Redis has confirmed the subscription, so
    /// every event published after this returns reaches the subscription.
    pub async fn subscribe(&self, container_id: ContainerId) -> Result<Subscription, HubError> {
        let name = channel(container_id);
        let mailbox = Arc::new(Mailbox::default());
        let gate = {
            let mut channels = self.inner.lock();
            let entry = channels.entry(name.clone()).or_insert_with(|| Channel {
                mailboxes: Vec::new(),
                gate: Arc::new(tokio::sync::Mutex::new(false)),
            });
            entry.mailboxes.push(mailbox.clone());
            entry.gate.clone()
        };
        let release = Release {
            inner: self.inner.clone(),
            name: name.clone(),
            mailbox,
        };
        let mut subscribed = gate.lock().await;
        if !*subscribed {
            self.inner
                .subscriber
                .subscribe(name.as_str())
                .await
                .map_err(|e| HubError::Unreachable(e.to_string()))?;
            *subscribed = true;
        }
        Ok(Subscription { release })
    }

    /// Open session watches (one per open progress stream).
    pub fn session_watch_count(&self) -> usize {
        self.inner.sessions.len()
    }

    /// Channels with at least one stream (or still being unsubscribed).
    pub fn channel_count(&self) -> usize {
        self.inner.lock().len()
    }

    /// Open streams following a container.
    pub fn stream_count(&self, container_id: ContainerId) -> usize {
        self.inner
            .lock()
            .get(&channel(container_id))
            .map_or(0, |entry| entry.mailboxes.len())
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hands `message` to every stream of the channel `name` (none is fine: every stream reads
    /// the database first), and returns when every stream has it, so each mailbox gets one
    /// message at a time, in order. The channel's lock is not held meanwhile: direct writes take
    /// a while. A channel with many streams is shared out among the runtime's worker threads.
    async fn send(&self, name: &str, message: HubMessage) {
        let Some(mailboxes) = self.lock().get(name).map(|entry| entry.mailboxes.clone()) else {
            return;
        };
        let workers = self.workers;
        if workers < 2 || mailboxes.len() < SHARED_OUT_FROM {
            for mailbox in &mailboxes {
                mailbox.deliver(&message);
            }
            return;
        }
        let mailboxes: Arc<[Arc<Mailbox>]> = mailboxes.into();
        let share = mailboxes.len().div_ceil(workers);
        // All shares are spawned (none is done here): a task spawned last sits in its worker's
        // slot that other workers cannot take, the others in its queue, which they can.
        let shares: Vec<_> = (0..mailboxes.len())
            .step_by(share)
            .map(|start| {
                let mailboxes = mailboxes.clone();
                let message = message.clone();
                tokio::spawn(async move {
                    let end = (start + share).min(mailboxes.len());
                    for mailbox in &mailboxes[start..end] {
                        mailbox.deliver(&message);
                    }
                })
            })
            .collect();
        for share in shares {
            if let Err(e) = share.await {
                tracing::error!(error = %e, "a share of a fan-out failed");
            }
        }
    }

    /// Tells every stream that messages may have been missed.
    fn resync_all(&self) {
        let mailboxes: Vec<Arc<Mailbox>> = self
            .lock()
            .values()
            .flat_map(|entry| entry.mailboxes.iter().cloned())
            .collect();
        for mailbox in mailboxes {
            mailbox.push(HubMessage::Resync);
        }
        self.sessions.recheck_all();
    }

    fn session_ended(&self, payload: &str) {
        match SessionEnd::decode(payload) {
            Some(end) => self.sessions.end(&end),
            None => {
                tracing::warn!(channel = SESSIONS_CHANNEL, "malformed session message");
                self.sessions.recheck_all();
            }
        }
    }

    /// True while the entry behind `gate` is in the map without streams.
    fn is_idle(&self, name: &str, gate: &Gate) -> bool {
        self.lock()
            .get(name)
            .is_some_and(|entry| entry.is_idle(gate))
    }

    /// Unsubscribes and forgets a channel whose last stream went, unless a stream came back.
    async fn retire(self: Arc<Self>, name: String, gate: Gate) {
        let mut subscribed = gate.lock().await;
        if !self.is_idle(&name, &gate) {
            return;
        }
        // Also when the flag is unset: a cancelled SUBSCRIBE may still have reached Redis.
        if let Err(e) = self.subscriber.unsubscribe(name.as_str()).await {
            tracing::warn!(channel = %name, error = %e, "could not unsubscribe");
        }
        *subscribed = false;
        let mut channels = self.lock();
        if channels
            .get(&name)
            .is_some_and(|entry| entry.is_idle(&gate))
        {
            channels.remove(&name);
        }
    }
}

impl Channel {
    /// True when this is the entry behind `gate` and no stream uses it.
    fn is_idle(&self, gate: &Gate) -> bool {
        Arc::ptr_eq(&self.gate, gate) && self.mailboxes.is_empty()
    }
}

/// Drop guard of a [`Subscription`]: takes its mailbox off the channel.
struct Release {
    inner: Arc<Inner>,
    name: String,
    mailbox: Arc<Mailbox>,
}

impl Drop for Release {
    fn drop(&mut self) {
        let gate = {
            let mut channels = self.inner.lock();
            let Some(entry) = channels.get_mut(&self.name) else {
                return;
            };
            if let Some(at) = entry
                .mailboxes
                .iter()
                .position(|mailbox| Arc::ptr_eq(mailbox, &self.mailbox))
            {
                entry.mailboxes.swap_remove(at);
            }
            if !entry.mailboxes.is_empty() {
                return;
            }
            entry.gate.clone()
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(self.inner.clone().retire(self.name.clone(), gate));
        }
    }
}

/// Hands each published message to its channel's streams.
async fn dispatch(inner: Weak<Inner>) {
    let mut messages = match inner.upgrade() {
        Some(inner) => inner.subscriber.message_rx(),
        None => return,
    };
    loop {
        let received = messages.recv().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        match received {
            Ok(message) => {
                let name = message.channel.to_string();
                let payload = message
                    .value
                    .as_str()
                    .map(|s| s.into_owned())
                    .unwrap_or_default();
                if name == SESSIONS_CHANNEL {
                    inner.session_ended(&payload);
                    continue;
                }
                match decode(&payload) {
                    Ok(events) => {
                        let message = HubMessage::Events(Arc::new(Batch::new(events)));
                        inner.send(&name, message).await;
                    }
                    Err(e) => {
                        tracing::warn!(channel = %name, error = %e, "malformed progress message");
                        inner.send(&name, HubMessage::Resync).await;
                    }
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "progress messages missed; streams resync");
                inner.resync_all();
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// After a reconnect: subscribes the channels again (the sessions channel too), then tells every
/// stream to resync.
async fn resync_after_reconnect(inner: Weak<Inner>) {
    let mut reconnects = match inner.upgrade() {
        Some(inner) => inner.subscriber.reconnect_rx(),
        None => return,
    };
    loop {
        let received = reconnects.recv().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        match received {
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                if let Err(e) = inner.subscriber.resubscribe_all().await {
                    tracing::warn!(error = %e, "could not subscribe again after a reconnect");
                }
                inner.resync_all();
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
