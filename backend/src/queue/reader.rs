//! [`Reader`]: takes new jobs off the stream with a blocking read on a dedicated connection.

use super::{Delivery, Queue, QueueError};
use crate::redis::RedisClient;
use fred::error::Error as RedisError;
use fred::prelude::*;
use fred::types::Value;
use fred::types::config::Options;
use std::time::Duration;

/// Reads new jobs with a blocking `XREADGROUP` on its own dedicated connection. Any number of
/// consumers (tasks) share one reader: reads take turns, so one is blocked in Redis at a time and
/// takes a new job as soon as it arrives. A `next` future dropped during its read may leave the
/// job it was handed pending for that consumer; [`Queue::reclaim`] hands it out again later.
pub struct Reader {
    queue: Queue,
    client: RedisClient,
    /// Held for the length of one read.
    turn: tokio::sync::Mutex<()>,
}

impl Reader {
    /// `dedicated` must be a client nothing else uses: a blocked read holds its connection.
    pub fn new(queue: Queue, dedicated: RedisClient) -> Self {
        Reader {
            queue,
            client: dedicated,
            turn: tokio::sync::Mutex::new(()),
        }
    }

    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The next new job for `consumer`, waiting up to `block` for one.
    pub async fn next(
        &self,
        consumer: &str,
        block: Duration,
    ) -> Result<Option<Delivery>, QueueError> {
        let _turn = self.turn.lock().await;
        let reply = match self.read(consumer, block).await {
            Err(e) if e.details().starts_with("NOGROUP") => {
                self.queue.ensure_group().await?;
                self.read(consumer, block).await?
            }
            other => other?,
        };
        let Some((entry_id, payload)) = first_entry(reply) else {
            return Ok(None);
        };
        self.queue.delivery(entry_id, &payload, 1, consumer).await
    }

    async fn read(&self, consumer: &str, block: Duration) -> Result<Value, RedisError> {
        let keys = self.queue.keys();
        let options = Options {
            timeout: Some(block + Duration::from_secs(10)),
            ..Options::default()
        };
        let block_ms = u64::try_from(block.as_millis()).unwrap_or(u64::MAX).max(1);
        self.client
            .with_options(&options)
            .xreadgroup(
                keys.group.as_str(),
                consumer,
                Some(1),
                Some(block_ms),
                false,
                keys.stream.as_str(),
                ">",
            )
            .await
    }
}

/// The id and `job` field of the first entry of an XREADGROUP reply (nil when it timed out).
fn first_entry(reply: Value) -> Option<(String, String)> {
    // RESP2: [[stream, entries]]; RESP3: {stream: entries}.
    let entries = match reply {
        Value::Array(streams) => streams
            .into_iter()
            .next()?
            .into_array()
            .into_iter()
            .nth(1)?,
        Value::Map(streams) => streams.inner().into_iter().next()?.1,
        _ => return None,
    };
    let mut entry = entries
        .into_array()
        .into_iter()
        .next()?
        .into_array()
        .into_iter();
    let id = entry.next()?.as_string()?;
    let mut fields = entry
        .next()
        .map(Value::into_array)
        .unwrap_or_default()
        .into_iter();
    let mut payload = String::new();
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        if name.as_str().as_deref() == Some("job") {
            payload = value.as_string().unwrap_or_default();
        }
    }
    Some((id, payload))
}
