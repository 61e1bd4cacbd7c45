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
/// takes new jobs as soon as they arrive; one read may take several ([`Reader::next_batch`]). A
/// `next`/`next_batch` future dropped during its read may leave the jobs it was handed pending for
/// that consumer; [`Queue::reclaim`] hands them out again later.
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
        Ok(self
            .next_batch(consumer, block, 1)
            .await?
            .into_iter()
            .next())
    }

    /// Up to `max` new jobs for `consumer` in one read, waiting up to `block` for the first;
    /// empty when none came (or only malformed ones, which are dropped). Every job returned is
    /// pending for `consumer` until acked.
    pub async fn next_batch(
        &self,
        consumer: &str,
        block: Duration,
        max: usize,
    ) -> Result<Vec<Delivery>, QueueError> {
        let max = max.max(1);
        let _turn = self.turn.lock().await;
        let reply = match self.read(consumer, block, max).await {
            Err(e) if e.details().starts_with("NOGROUP") => {
                self.queue.ensure_group().await?;
                self.read(consumer, block, max).await?
            }
            other => other?,
        };
        let mut deliveries = Vec::new();
        for (entry_id, payload) in entries(reply) {
            if let Some(delivery) = self.queue.delivery(entry_id, &payload, 1, consumer).await? {
                deliveries.push(delivery);
            }
        }
        Ok(deliveries)
    }

    async fn read(&self, consumer: &str, block: Duration, max: usize) -> Result<Value, RedisError> {
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
                Some(u64::try_from(max).unwrap_or(u64::MAX)),
                Some(block_ms),
                false,
                keys.stream.as_str(),
                ">",
            )
            .await
    }
}

/// The id and `job` field of each entry of an XREADGROUP reply (none when it timed out).
fn entries(reply: Value) -> Vec<(String, String)> {
    // RESP2: [[stream, entries]]; RESP3: {stream: entries}.
    let entries = match reply {
        Value::Array(streams) => streams
            .into_iter()
            .next()
            .and_then(|stream| stream.into_array().into_iter().nth(1)),
        Value::Map(streams) => streams
            .inner()
            .into_iter()
            .next()
            .map(|(_, entries)| entries),
        _ => None,
    };
    let Some(entries) = entries else {
        return Vec::new();
    };
    entries
        .into_array()
        .into_iter()
        .filter_map(|entry| {
            let mut entry = entry.into_array().into_iter();
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
        })
        .collect()
}
