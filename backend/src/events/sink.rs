//! [`EventSink`]: the worker's writer of one container's progress events.
//!
//! Numbers events without gaps (resuming after the highest stored `seq` when a worker restarts),
//! buffers log lines and writes them in batches: one INSERT and one PUBLISH per flush, when
//! [`SinkConfig::batch_lines`] lines are waiting or the oldest has waited
//! [`SinkConfig::flush_interval`]. Steps and the terminal event flush at once, after the lines
//! before them. Past [`SinkConfig::log_limit`] log lines, lines are dropped and counted; one
//! `log` event saying how many were dropped is written before the terminal event (or on close).

use super::{Redactor, channel, encode};
use crate::db::DbPool;
use crate::models::event::EventRow;
use crate::models::{ContainerRow, RunRow};
use crate::redis::RedisClient;
use chrono::{SubsecRound, Utc};
use diesel_async::AsyncConnection;
use domain::ContainerId;
use domain::container::{Cancelled, Lifecycle, Phase};
use domain::event::{EventKind, LogStream, ProgressEvent, ScriptProgress};
use fred::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

/// Longest message stored, in bytes; longer ones are cut after redaction (so a cut never leaves
/// part of a secret).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// How an [`EventSink`] batches and limits.
#[derive(Clone, Debug)]
pub struct SinkConfig {
    /// Waiting log lines that trigger a flush.
    pub batch_lines: usize,
    /// Longest a log line waits before it is flushed.
    pub flush_interval: Duration,
    /// Log lines kept per container, over every run; later ones are dropped and counted.
    pub log_limit: u64,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig {
            batch_lines: 200,
            flush_interval: Duration::from_millis(100),
            log_limit: 50_000,
        }
    }
}

/// Why events could not be stored. (Publishing is best effort: readers catch up from the table.)
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("no database connection for progress events: {0}")]
    Pool(String),
    #[error("could not store progress events: {0}")]
    Database(#[from] diesel::result::Error),
}

/// Writes one container's events. Dropping it flushes what is left in the background;
/// [`EventSink::close`] does the same and reports errors.
pub struct EventSink {
    shared: Arc<Shared>,
}

struct Shared {
    container_id: ContainerId,
    db: DbPool,
    redis: RedisClient,
    config: SinkConfig,
    redactor: RwLock<Redactor>,
    state: Mutex<State>,
    /// Wakes the timer when the buffer gets its first line, or when the sink closes.
    wake: Notify,
    closed: AtomicBool,
}

struct State {
    next_seq: i64,
    phase: Phase,
    percent: u8,
    script: Option<ScriptProgress>,
    buffer: Vec<ProgressEvent>,
    /// Log lines stored or waiting, this run and earlier ones.
    logs: u64,
    /// Log lines dropped since the last truncation marker.
    dropped: u64,
}

impl EventSink {
    /// A sink continuing after the container's stored events; spawns its flush timer.
    pub async fn open(
        db: DbPool,
        redis: RedisClient,
        container_id: ContainerId,
        config: SinkConfig,
    ) -> Result<EventSink, EventError> {
        let mut conn = db
            .get()
            .await
            .map_err(|e| EventError::Pool(e.to_string()))?;
        let last = last_event(&mut conn, container_id).await?;
        let logs = EventRow::count_logs(&mut conn, container_id).await?;
        drop(conn);
        let shared = Arc::new(Shared {
            container_id,
            db,
            redis,
            state: Mutex::new(State {
                next_seq: last.seq + 1,
                phase: last.phase,
                percent: last.percent,
                script: None,
                buffer: Vec::with_capacity(config.batch_lines),
                logs: u64::try_from(logs).unwrap_or(0),
                dropped: 0,
            }),
            config,
            redactor: RwLock::new(Redactor::default()),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
        });
        tokio::spawn(flush_timer(shared.clone()));
        Ok(EventSink { shared })
    }

    pub fn container_id(&self) -> ContainerId {
        self.shared.container_id
    }

    /// Hides `secret` in every later event's message.
    pub fn redact(&self, secret: impl Into<String>) {
        self.shared
            .redactor
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .add(secret);
    }

    /// A pipeline step started; later log lines carry its phase and percent.
    pub async fn step(&self, phase: Phase, percent: u8, message: &str) -> Result<(), EventError> {
        self.shared.step(phase, percent, message, None).await
    }

    /// A template script started; later log lines carry it.
    pub async fn script_step(
        &self,
        phase: Phase,
        percent: u8,
        message: &str,
        script: ScriptProgress,
    ) -> Result<(), EventError> {
        self.shared
            .step(phase, percent, message, Some(script))
            .await
    }

    /// One line of output; written with the next flush.
    pub async fn log(&self, stream: LogStream, line: &str) -> Result<(), EventError> {
        let shared = &self.shared;
        let mut state = shared.state.lock().await;
        // Lines also stop being taken while storing keeps failing, so memory stays bounded.
        let backlog = state.buffer.len() >= shared.config.batch_lines.saturating_mul(20);
        if state.logs >= shared.config.log_limit || backlog {
            state.dropped += 1;
            return Ok(());
        }
        state.logs += 1;
        let first = state.buffer.is_empty();
        shared.push(&mut state, EventKind::Log, line, Some(stream));
        if state.buffer.len() >= shared.config.batch_lines {
            shared.flush(&mut state).await
        } else {
            if first {
                shared.wake.notify_one();
            }
            Ok(())
        }
    }

    /// The container is ready: the last event of the run, at 100 %. The event, the final
    /// `checkpoint` and lifecycle `ready` are stored in one transaction, so whoever sees the
    /// event also finds the row finished (and a finished row always has its terminal event).
    pub async fn complete(
        &self,
        message: &str,
        checkpoint: &serde_json::Value,
    ) -> Result<(), EventError> {
        self.shared
            .finish(EventKind::Complete, message, Settle::Ready { checkpoint })
            .await
    }

    /// Creation failed: the last event of the run, stored in one transaction with lifecycle
    /// `error` and the same (redacted) message as the row's error.
    pub async fn error(&self, message: &str) -> Result<(), EventError> {
        self.shared
            .finish(EventKind::Error, message, Settle::Failed)
            .await
    }

    /// Writes the waiting log lines now.
    pub async fn flush(&self) -> Result<(), EventError> {
        let mut state = self.shared.state.lock().await;
        self.shared.flush(&mut state).await
    }

    /// Writes what is waiting, with the truncation marker if lines were dropped, and stops.
    pub async fn close(self) -> Result<(), EventError> {
        let mut state = self.shared.state.lock().await;
        self.shared.push_truncation_marker(&mut state);
        self.shared.flush(&mut state).await
    }
}

impl Drop for EventSink {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }
}

impl Shared {
    async fn step(
        &self,
        phase: Phase,
        percent: u8,
        message: &str,
        script: Option<ScriptProgress>,
    ) -> Result<(), EventError> {
        let mut state = self.state.lock().await;
        state.phase = phase;
        state.percent = percent.min(100);
        state.script = script;
        self.push(&mut state, EventKind::Step, message, None);
        self.flush(&mut state).await
    }

    async fn finish(
        &self,
        kind: EventKind,
        message: &str,
        settle: Settle<'_>,
    ) -> Result<(), EventError> {
        let mut state = self.state.lock().await;
        self.push_truncation_marker(&mut state);
        if kind == EventKind::Complete {
            state.percent = 100;
        }
        state.script = None;
        self.push(&mut state, kind, message, None);
        let message = state
            .buffer
            .last()
            .map(|event| event.message.clone())
            .unwrap_or_default();
        let mut conn = self
            .db
            .get()
            .await
            .map_err(|e| EventError::Pool(e.to_string()))?;
        let (container_id, events) = (self.container_id, &state.buffer);
        conn.transaction(async move |conn| {
            EventRow::insert_batch(conn, container_id, events).await?;
            match settle {
                Settle::Ready { checkpoint } => {
                    ContainerRow::set_checkpoint(conn, container_id, checkpoint).await?;
                    ContainerRow::set_lifecycle(conn, container_id, Lifecycle::Ready, None).await?;
                    RunRow::finish_latest(conn, container_id, "ready").await
                }
                Settle::Failed => {
                    ContainerRow::set_lifecycle(
                        conn,
                        container_id,
                        Lifecycle::Error,
                        Some(&message),
                    )
                    .await?;
                    let outcome = if Cancelled::is_cancel_message(&message) {
                        "cancelled"
                    } else {
                        "error"
                    };
                    RunRow::finish_latest(conn, container_id, outcome).await
                }
            }
        })
        .await?;
        drop(conn);
        self.publish(&mut state).await;
        Ok(())
    }

    /// Numbers an event and appends it to the buffer.
    fn push(&self, state: &mut State, kind: EventKind, message: &str, stream: Option<LogStream>) {
        let message = self.clean(message);
        let event = ProgressEvent {
            seq: state.next_seq,
            kind,
            phase: state.phase,
            percent: state.percent,
            message,
            stream,
            script: state.script.clone(),
            // Microseconds, as PostgreSQL keeps them: live and replayed events are equal.
            at: Utc::now().trunc_subsecs(6),
        };
        state.next_seq += 1;
        state.buffer.push(event);
    }

    fn push_truncation_marker(&self, state: &mut State) {
        if state.dropped == 0 {
            return;
        }
        let message = format!(
            "Log truncated: {} further lines were not stored (limit {} lines).",
            state.dropped, self.config.log_limit
        );
        state.dropped = 0;
        self.push(state, EventKind::Log, &message, None);
    }

    /// The message with secrets hidden, cut to [`MAX_MESSAGE_BYTES`].
    fn clean(&self, message: &str) -> String {
        let redactor = self
            .redactor
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut text = redactor.apply(message).into_owned();
        if text.len() > MAX_MESSAGE_BYTES {
            let mut cut = MAX_MESSAGE_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        text
    }

    /// One INSERT, then one PUBLISH of the same events. The buffer is kept if the INSERT fails.
    async fn flush(&self, state: &mut State) -> Result<(), EventError> {
        if state.buffer.is_empty() {
            return Ok(());
        }
        let mut conn = self
            .db
            .get()
            .await
            .map_err(|e| EventError::Pool(e.to_string()))?;
        EventRow::insert_batch(&mut conn, self.container_id, &state.buffer).await?;
        drop(conn);
        self.publish(state).await;
        Ok(())
    }

    /// Publishes the stored events waiting in the buffer and empties it.
    async fn publish(&self, state: &mut State) {
        let published: Result<i64, _> = self
            .redis
            .publish(channel(self.container_id), encode(&state.buffer))
            .await;
        if let Err(e) = published {
            tracing::warn!(
                container.id = %self.container_id,
                error = %e,
                "could not publish progress events; readers catch up from the database"
            );
        }
        state.buffer.clear();
    }
}

/// Where the stored events end: a sink opened again goes on from there (same phase and
/// percent, so a line written before the next step does not move the bar back).
struct Last {
    seq: i64,
    phase: Phase,
    percent: u8,
}

async fn last_event(
    conn: &mut diesel_async::AsyncPgConnection,
    container_id: ContainerId,
) -> Result<Last, diesel::result::Error> {
    use crate::schema::container_events as e;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let last: Option<(i64, String, i16)> = e::table
        .filter(e::container_id.eq(container_id))
        .order(e::seq.desc())
        .select((e::seq, e::phase, e::percent))
        .first(conn)
        .await
        .optional()?;
    Ok(match last {
        Some((seq, phase, percent)) => Last {
            seq,
            phase: phase.parse().unwrap_or(Phase::Create),
            percent: u8::try_from(percent.clamp(0, 100)).unwrap_or(0),
        },
        None => Last {
            seq: 0,
            phase: Phase::Create,
            percent: 0,
        },
    })
}

/// What the terminal event settles on the container row.
enum Settle<'a> {
    Ready { checkpoint: &'a serde_json::Value },
    Failed,
}

/// Flushes log lines that have waited `flush_interval`; on close, flushes the rest and ends.
async fn flush_timer(shared: Arc<Shared>) {
    loop {
        shared.wake.notified().await;
        if !shared.closed.load(Ordering::SeqCst) {
            tokio::time::sleep(shared.config.flush_interval).await;
        }
        let closed = shared.closed.load(Ordering::SeqCst);
        let mut state = shared.state.lock().await;
        if closed {
            shared.push_truncation_marker(&mut state);
        }
        if let Err(e) = shared.flush(&mut state).await {
            tracing::warn!(container.id = %shared.container_id, error = %e, "could not store progress events");
            if !closed {
                // Try again after another interval.
                shared.wake.notify_one();
            }
        }
        if closed {
            return;
        }
    }
}
