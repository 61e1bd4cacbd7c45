//! The shared Redis client: one multiplexed connection per process, reconnecting on its own.

use fred::prelude::*;
use std::time::Duration;

pub use fred::clients::{Client as RedisClient, SubscriberClient};
/// Why a Redis command failed (fred's error), for callers outside the backend.
pub use fred::error::Error as RedisError;

/// Why Redis could not be reached.
#[derive(Debug, thiserror::Error)]
#[error("could not connect to Redis: {0}")]
pub struct RedisConnectError(String);

fn builder(url: &str) -> Result<Builder, RedisConnectError> {
    let config = Config::from_url(url).map_err(|e| RedisConnectError(e.to_string()))?;
    let mut builder = Builder::from_config(config);
    builder
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(5);
            c.internal_command_timeout = Duration::from_secs(10);
        })
        .with_performance_config(|p| {
            p.default_command_timeout = Duration::from_secs(10);
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2));
    Ok(builder)
}

/// Connects a command client and waits until the first connection is up.
pub async fn connect(url: &str) -> Result<RedisClient, RedisConnectError> {
    let client = builder(url)?
        .build()
        .map_err(|e| RedisConnectError(e.to_string()))?;
    client
        .init()
        .await
        .map_err(|e| RedisConnectError(e.to_string()))?;
    Ok(client)
}

/// Connects a subscriber client that resubscribes to its channels after a reconnect.
pub async fn connect_subscriber(url: &str) -> Result<SubscriberClient, RedisConnectError> {
    let client = builder(url)?
        .build_subscriber_client()
        .map_err(|e| RedisConnectError(e.to_string()))?;
    client
        .init()
        .await
        .map_err(|e| RedisConnectError(e.to_string()))?;
    client.manage_subscriptions();
    Ok(client)
}
