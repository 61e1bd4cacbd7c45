//! `GET /api/containers/{id}/progress`: a container's progress as Server-Sent Events.
//!
//! # Wire format
//! ```text
//! id: 42
//! event: progress
//! data: {"seq":42,"kind":"log","phase":"sync","percent":61,"message":"…","stream":"stdout","at":"…"}
//! ```
//! Every event has the name `progress`, whatever its kind (`step`, `log`, `complete`, `error`
//! are in the JSON, a [`ProgressEvent`]): an SSE event named `error` would be confused with
//! EventSource's own `error` event. A `: keep-alive` comment goes out every 15 s. Events that
//! are ready together (a page of the replay, events read to fill a gap) go out in one body
//! chunk; a published batch is a chunk of its own, encoded once, by the first stream that sends
//! it, and the other streams of the container send the same bytes. (hyper writes the chunks
//! ready together in one `writev`; [`crate::stream_connections`] writes each as it comes.) On a
//! stream served by [`crate::stream_connections`], a published batch that finds the stream
//! waiting in step is written to the client by the hub's own task ([`direct`]).
//!
//! # Order
//! The stream subscribes to live events first, then replays the stored events after its cursor
//! (the `Last-Event-ID` header, else `?after=SEQ`, else from the start) in pages, each sent in
//! one write while the next is read, then forwards live events, skipping any with `seq` at or
//! below the last one sent. When a live message does not continue at the next `seq` (one was
//! missed) or the hub asks for a resync, the stream reads the gap from the table: nothing is lost
//! and nothing is sent twice.
//!
//! # End
//! The stream ends after a terminal event (`complete` or `error`) that is the newest one, and
//! after the stored events when the container is already `ready` or `error`. A request for a
//! finished container with nothing after its cursor gets `204 No Content`, which tells
//! EventSource to stop reconnecting.
//!
//! A live stream also ends with its session: at the session's `expires_at`, and when a logout or
//! password reset announces the end ([`backend::events::announce_session_end`]); when such an
//! announcement may have been missed (Redis lag or reconnect), the stream checks its session in
//! the database. EventSource then reconnects, gets 401, and the page goes to the login page.
//!
//! # Errors
//! 422 malformed id or cursor (the field is named), 401 no session (the `/api` session layer, or
//! the session ended while the stream opened), 404 unknown container, 503 database or Redis
//! unreachable; the body is the API's error envelope ([`crate::refusal`]).

mod direct;

use crate::lean_socket::LeanConnection;
use app::error::AppError;
use app::ssr::{CurrentUser, ServerContext};
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use backend::db::DbPool;
use backend::events::{Batch, HubMessage, SessionNews, SessionWatch, Subscription};
use backend::models::event::EventRow;
use backend::models::{ContainerRow, Session};
use domain::ContainerId;
use domain::container::Lifecycle;
use domain::event::ProgressEvent;
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::Write as _;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// How long a stream may be silent before a keep-alive comment goes out.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Stored events read per query (a replay sends one page per write).
const PAGE: i64 = 1000;

/// The SSE name of every event.
pub const EVENT_NAME: &str = "progress";

/// The route's path, as the router registers it.
pub const ROUTE: &str = "/api/containers/{id}/progress";

/// Whether `path` (without a query) is one of this route's: `/api/containers/{id}/progress` with
/// a non-empty `id` segment (whether it is a container id is the handler's to say).
pub fn is_route_path(path: &str) -> bool {
    path.strip_prefix("/api/containers/")
        .and_then(|rest| rest.strip_suffix("/progress"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// The route's handler, with the state it needs.
pub fn route(ctx: ServerContext) -> MethodRouter {
    get(progress).with_state(ctx)
}

#[derive(Debug, Deserialize)]
struct ProgressQuery {
    after: Option<String>,
}

async fn progress(
    State(ctx): State<ServerContext>,
    user: Option<Extension<CurrentUser>>,
    Path(id): Path<String>,
    Query(query): Query<ProgressQuery>,
    lean: Option<Extension<LeanConnection>>,
    headers: HeaderMap,
) -> Response {
    let Some(Extension(user)) = user else {
        return crate::refusal::unauthorized();
    };
    let lean = lean.map(|Extension(lean)| lean);
    match open(ctx, user, &id, query, lean, &headers).await {
        Ok(response) => response,
        Err(refused) => crate::refusal::respond(&refused),
    }
}

/// Why a stream was not opened; answered with its own status by [`crate::refusal`].
type Refusal = AppError;

async fn open(
    ctx: ServerContext,
    user: CurrentUser,
    id: &str,
    query: ProgressQuery,
    lean: Option<LeanConnection>,
    headers: &HeaderMap,
) -> Result<Response, Refusal> {
    let container_id: ContainerId = id
        .parse()
        .map_err(|_| AppError::field("id", "Not a container id."))?;
    let after = cursor(headers, &query)?;
    // Watched before the session is checked again, so no ending between the two is missed.
    let session = ctx.progress.watch_session(user.id, user.session_hash);
    let finished = matches!(
        lifecycle(&ctx, container_id, session.session_hash()).await?,
        Lifecycle::Ready | Lifecycle::Error
    );
    // Live events first, so none is published between the replay and the subscription.
    let subscription = if finished {
        None
    } else {
        let subscription = ctx.progress.subscribe(container_id).await.map_err(|e| {
            tracing::error!(container.id = %container_id, error = %e, "no progress subscription");
            AppError::Unavailable("Redis is not reachable right now.".into())
        })?;
        Some(subscription)
    };
    let expires = instant_of(user.expires_at);
    let direct = match (&subscription, lean) {
        (Some(subscription), Some(LeanConnection(socket))) => {
            let direct = Arc::new(direct::DirectFeed::new(socket, expires));
            subscription.set_direct(direct.clone(), &session);
            Some(direct)
        }
        _ => None,
    };
    let now = Instant::now();
    let mut feed = Feed {
        db: ctx.db.clone(),
        container_id,
        subscription,
        session,
        expires,
        last_sent: now,
        timer: Box::pin(tokio::time::sleep_until(expires.min(now + KEEP_ALIVE))),
        last_queued: after,
        last_was_terminal: false,
        queue: VecDeque::new(),
        mode: Mode::CatchUp,
        read_ahead: None,
        direct,
    };
    feed.catch_up()
        .await
        .map_err(|()| AppError::Unavailable("The database is not reachable right now.".into()))?;
    if finished && feed.queue.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    tracing::debug!(container.id = %container_id, after, "progress stream opened");
    Ok(event_stream(feed))
}

/// The container's lifecycle, if the session with `session_hash` is still valid.
async fn lifecycle(
    ctx: &ServerContext,
    container_id: ContainerId,
    session_hash: &[u8],
) -> Result<Lifecycle, Refusal> {
    let mut conn = ctx.conn().await?;
    match Session::find_valid(&mut conn, session_hash, chrono::Utc::now())
        .await
        .map_err(AppError::from)
    {
        Ok(Some(_)) => {}
        Ok(None) => return Err(AppError::Unauthorized),
        // An outage is not a logout.
        Err(_) => {
            return Err(AppError::Unavailable(
                "The server cannot check your session right now.".into(),
            ));
        }
    }
    Ok(ContainerRow::find(&mut conn, container_id).await?.lifecycle)
}

/// The SSE response sending `feed`'s events: each body chunk carries every stored event ready at
/// that moment, or one published batch.
fn event_stream(feed: Feed) -> Response {
    let frames = futures::stream::unfold(feed, |mut feed| async move {
        let bytes = match feed.next().await {
            Next::KeepAlive => Bytes::from_static(b": keep-alive\n\n"),
            Next::End => return None,
            Next::Shared(bytes) => bytes,
            Next::Event(event) => {
                let mut text = Vec::new();
                write_frame(&mut text, &event);
                let mut sent = 1;
                // Events already read go in the same chunk; a shared batch in its own.
                while let Some(event) = feed.pop_event() {
                    write_frame(&mut text, &event);
                    sent += 1;
                }
                crate::metrics::events_sent(sent);
                Bytes::from(text)
            }
        };
        Some((Ok::<_, Infallible>(bytes), feed))
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache, no-transform"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(crate::metrics::counted_stream(Box::pin(frames))),
    )
        .into_response()
}

/// The moment `at`, on the clock that timers use (at most a year ahead).
fn instant_of(at: chrono::DateTime<chrono::Utc>) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    let left = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Instant::now() + left.min(YEAR)
}

/// The last `seq` the client has: `Last-Event-ID`, else `?after=`, else 0 (empty counts as absent).
fn cursor(headers: &HeaderMap, query: &ProgressQuery) -> Result<i64, Refusal> {
    let header = headers
        .get("last-event-id")
        .map(|value| value.to_str().unwrap_or("-").trim());
    let query = query.after.as_deref().map(str::trim);
    let present = |text: &&str| !text.is_empty();
    let Some(text) = header.filter(present).or(query.filter(present)) else {
        return Ok(0);
    };
    match text.parse::<i64>() {
        Ok(seq) if seq >= 0 => Ok(seq),
        _ => Err(AppError::field("after", "Not an event number.")),
    }
}

/// Appends one event in SSE form: `id`, `event`, one `data` line (JSON has no raw newline).
fn write_frame(text: &mut Vec<u8>, event: &ProgressEvent) {
    let _ = write!(text, "id: {}\nevent: {EVENT_NAME}\ndata: ", event.seq);
    if serde_json::to_writer(&mut *text, event).is_err() {
        text.extend_from_slice(b"{}");
    }
    text.extend_from_slice(b"\n\n");
}

/// Counts a published batch as handed to one more stream's connection (its events, and the time
/// since it reached the server); returns when the stream counts as having sent it (the keep-alive
/// is measured from there). The stream's task and the hub's direct writes both call this.
fn shared_batch_sent(batch: &Batch) -> Instant {
    crate::metrics::events_sent(batch.events().len());
    crate::metrics::fanout_time(batch.received().elapsed());
    batch.received().into()
}

/// The SSE frames of a whole published batch, as every stream that is in step sends them.
fn batch_frames(events: &[ProgressEvent]) -> Bytes {
    let mut text = Vec::with_capacity(events.len() * 256);
    for event in events {
        write_frame(&mut text, event);
    }
    Bytes::from(text)
}

/// What is queued to be sent, in order.
enum Item {
    Event(ProgressEvent),
    /// A whole published batch, encoded once for every stream
    /// ([`backend::events::Batch::encoded`]).
    Shared(Arc<Batch>),
}

/// What a stream sends next.
enum Next {
    Event(ProgressEvent),
    Shared(Bytes),
    /// A comment, so proxies and browsers keep a silent stream open.
    KeepAlive,
    End,
}

/// What ended a live wait.
enum Woke {
    Session(SessionNews),
    Published(HubMessage),
    Timer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Reading stored events after `last_queued`.
    CatchUp,
    /// Forwarding published events.
    Live,
    Done,
}

/// One client's position in a container's events. Dropping it (the client went away) drops the
/// subscription, which releases the channel.
struct Feed {
    db: DbPool,
    container_id: ContainerId,
    /// `None` for a finished container: its stored events are all there is.
    subscription: Option<Subscription>,
    /// The client's session: a live stream ends when it ends.
    session: SessionWatch,
    /// When the session expires.
    expires: Instant,
    /// When the stream last sent something (for a published batch: when it reached the server).
    last_sent: Instant,
    /// Fires at the session's expiry or when a keep-alive may be due. It is moved only when it
    /// fires, so that a stream busy with events does not re-arm a timer for each of them.
    timer: Pin<Box<Sleep>>,
    /// The last `seq` queued (and so sent before anything queued later).
    last_queued: i64,
    /// Whether that event ends the run.
    last_was_terminal: bool,
    queue: VecDeque<Item>,
    mode: Mode,
    /// The next page of a replay, read while the current one is sent.
    read_ahead: Option<tokio::task::JoinHandle<Result<Vec<ProgressEvent>, String>>>,
    /// On a lean HTTP/1.1 connection: where the hub sends batches while the feed waits in step.
    direct: Option<Arc<direct::DirectFeed>>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        if let Some(handle) = self.read_ahead.take() {
            handle.abort();
        }
    }
}

/// Up to [`PAGE`] stored events of a container after `after`.
async fn read_page(
    db: DbPool,
    container_id: ContainerId,
    after: i64,
) -> Result<Vec<ProgressEvent>, String> {
    let mut conn = db.get().await.map_err(|e| e.to_string())?;
    EventRow::list_after(&mut conn, container_id, after, PAGE)
        .await
        .map_err(|e| e.to_string())
}

impl Feed {
    /// The next queued event, if the queue starts with one (not with a shared batch).
    fn pop_event(&mut self) -> Option<ProgressEvent> {
        match self.queue.pop_front()? {
            Item::Event(event) => Some(event),
            shared @ Item::Shared(_) => {
                self.queue.push_front(shared);
                None
            }
        }
    }

    /// What to send next: queued events, a keep-alive after [`KEEP_ALIVE`] of silence, or the
    /// end. Waiting states are boxed, so an idle stream holds only the small one it waits in.
    async fn next(&mut self) -> Next {
        loop {
            match self.queue.pop_front() {
                Some(Item::Event(event)) => {
                    self.last_sent = Instant::now();
                    return Next::Event(event);
                }
                Some(Item::Shared(batch)) => {
                    self.last_sent = shared_batch_sent(&batch);
                    return Next::Shared(batch.encoded(batch_frames));
                }
                None => {}
            }
            match self.mode {
                Mode::Done => return Next::End,
                Mode::CatchUp => {
                    if Box::pin(self.catch_up()).await.is_err() {
                        // The client reconnects with Last-Event-ID and resumes.
                        self.mode = Mode::Done;
                    }
                }
                Mode::Live => {
                    if let Some(next) = self.wait_live().await {
                        return next;
                    }
                }
            }
        }
    }

    /// Waits for published events, the session's end, or the keep-alive time. Only waits on
    /// channels (cancel-safe) and timers inside the `select!`; a database read is never cut short.
    /// Meanwhile the hub may send published batches itself ([`direct`]); the feed takes up what
    /// it sent when it wakes.
    async fn wait_live(&mut self) -> Option<Next> {
        let Some(subscription) = self.subscription.as_mut() else {
            self.mode = Mode::Done;
            return None;
        };
        if let Some(direct) = &self.direct {
            direct.park(self.last_queued, self.last_sent);
        }
        let woke = tokio::select! {
            biased;
            news = self.session.recv() => Woke::Session(news),
            message = subscription.recv() => Woke::Published(message),
            () = self.timer.as_mut() => Woke::Timer,
        };
        if let Some(direct) = &self.direct {
            (self.last_queued, self.last_sent) = direct.unpark();
        }
        match woke {
            Woke::Session(news) => {
                if news == SessionNews::Ended || !Box::pin(self.session_still_valid()).await {
                    return Some(self.end_with_session("ended"));
                }
            }
            Woke::Published(message) => {
                self.take(message);
                // Everything else published meanwhile goes in the same write.
                while self.mode == Mode::Live {
                    let Some(message) = self.subscription.as_mut().and_then(Subscription::try_recv)
                    else {
                        break;
                    };
                    self.take(message);
                }
            }
            Woke::Timer => {
                let now = Instant::now();
                if now >= self.expires {
                    return Some(self.end_with_session("expired"));
                }
                let keep_alive_due = self.last_sent + KEEP_ALIVE;
                if now >= keep_alive_due {
                    self.last_sent = now;
                    self.timer
                        .as_mut()
                        .reset(self.expires.min(now + KEEP_ALIVE));
                    return Some(Next::KeepAlive);
                }
                self.timer.as_mut().reset(self.expires.min(keep_alive_due));
            }
        }
        None
    }

    fn end_with_session(&mut self, why: &'static str) -> Next {
        tracing::debug!(container.id = %self.container_id, session = why, "progress stream ends with its session");
        self.mode = Mode::Done;
        self.queue.clear();
        Next::End
    }

    /// Whether the stream's session is still in the database; true when the database cannot
    /// tell (an outage is not a logout).
    async fn session_still_valid(&self) -> bool {
        let found = async {
            let mut conn = self.db.get().await.map_err(|e| e.to_string())?;
            Session::find_valid(&mut conn, self.session.session_hash(), chrono::Utc::now())
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        match found {
            Ok(found) => found.is_some(),
            Err(e) => {
                tracing::warn!(container.id = %self.container_id, error = %e, "could not recheck a stream's session");
                true
            }
        }
    }

    /// Takes one page of stored events (read ahead while the last page was sent, or read now);
    /// after a full page, starts reading the next; when the table has no more, goes live or ends.
    /// The page continues after `last_queued`.
    async fn catch_up(&mut self) -> Result<(), ()> {
        let page = match self.read_ahead.take() {
            Some(handle) => handle.await.unwrap_or_else(|e| Err(e.to_string())),
            None => read_page(self.db.clone(), self.container_id, self.last_queued).await,
        }
        .map_err(|e| {
            tracing::error!(container.id = %self.container_id, error = %e, "could not read progress events");
        })?;
        let exhausted = i64::try_from(page.len()).unwrap_or(PAGE) < PAGE;
        if let Some(last) = page.last() {
            self.last_queued = last.seq;
            self.last_was_terminal = last.is_terminal();
        }
        self.queue.extend(page.into_iter().map(Item::Event));
        if !exhausted {
            let next = read_page(self.db.clone(), self.container_id, self.last_queued);
            self.read_ahead = Some(tokio::spawn(next));
        } else {
            self.mode = if self.subscription.is_none() || self.last_was_terminal {
                Mode::Done
            } else {
                Mode::Live
            };
        }
        Ok(())
    }

    /// Queues the published events that continue the sequence, up to a terminal one (after
    /// which the stream ends). A batch that continues the sequence as a whole is queued as the
    /// frames every stream shares.
    fn take(&mut self, message: HubMessage) {
        let batch = match message {
            HubMessage::Events(batch) => batch,
            HubMessage::Resync => {
                self.mode = Mode::CatchUp;
                return;
            }
        };
        let events = batch.events();
        let fresh = &events[events.partition_point(|e| e.seq <= self.last_queued)..];
        let Some(first) = fresh.first() else {
            return;
        };
        if first.seq != self.last_queued + 1 {
            // A message was missed: the table has everything up to this batch.
            self.mode = Mode::CatchUp;
            return;
        }
        let ends = fresh.iter().position(ProgressEvent::is_terminal);
        match ends {
            Some(at) if at + 1 < fresh.len() => {
                self.queue
                    .extend(fresh[..=at].iter().cloned().map(Item::Event));
            }
            _ if fresh.len() == events.len() => self.queue.push_back(Item::Shared(batch.clone())),
            _ => self.queue.extend(fresh.iter().cloned().map(Item::Event)),
        }
        let last = match ends {
            Some(at) => &fresh[at],
            None => &fresh[fresh.len() - 1],
        };
        self.last_queued = last.seq;
        self.last_was_terminal = last.is_terminal();
        if self.last_was_terminal {
            self.mode = Mode::Done;
        }
    }
}
