//! Ended sessions end their open progress streams, in every server process.
//!
//! Whoever ends a session (logout, password reset) deletes its rows, then calls
//! [`announce_session_end`]. Each process's [`ProgressHub`](super::ProgressHub) hears it on its one
//! subscriber connection and tells every stream's [`SessionWatch`]; a watch that may have missed
//! a message (lag, reconnect) says [`SessionNews::Unsure`] and its stream checks the database.
//!
//! # Wire format on Redis
//! Channel [`SESSIONS_CHANNEL`]; each message is `session:HEX` (the SHA-256 of one session's
//! token, as stored in `sessions.token_hash`) or `user:UUID` (every session of that user).

use crate::redis::RedisClient;
use domain::UserId;
use fred::prelude::*;
use std::sync::Arc;
use tokio::sync::broadcast;

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

/// What the hub hands every session watch.
#[derive(Clone, Debug)]
pub(super) enum SessionSignal {
    Ended(Arc<SessionEnd>),
    /// Messages may have been missed (a lag or a reconnect).
    Recheck,
}

/// What a [`SessionWatch`] learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionNews {
    /// The session was ended.
    Ended,
    /// A message may have been missed: check the session in the database.
    Unsure,
}

/// One stream's watch on its own session.
pub struct SessionWatch {
    receiver: broadcast::Receiver<SessionSignal>,
    user: UserId,
    hash: Vec<u8>,
}

impl SessionWatch {
    pub(super) fn new(
        receiver: broadcast::Receiver<SessionSignal>,
        user: UserId,
        hash: Vec<u8>,
    ) -> SessionWatch {
        SessionWatch {
            receiver,
            user,
            hash,
        }
    }

    /// Waits until the session ended or a message may have been missed; cancel-safe.
    pub async fn recv(&mut self) -> SessionNews {
        loop {
            match self.receiver.recv().await {
                Ok(SessionSignal::Ended(end)) if end.covers(self.user, &self.hash) => {
                    return SessionNews::Ended;
                }
                Ok(SessionSignal::Ended(_)) => {}
                Ok(SessionSignal::Recheck) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    return SessionNews::Unsure;
                }
                // The hub is gone with its process.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }

    /// The hash of the watched session's token.
    pub fn session_hash(&self) -> &[u8] {
        &self.hash
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
}
