//! Service-check requests between the server and the workers, through a real Redis.

use backend::health::{HealthChecks, Requested};
use domain::ContainerId;
use std::time::Duration;

async fn client() -> backend::redis::RedisClient {
    backend::redis::connect(&testkit::redis_url())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_wait_that_finds_no_request_is_not_an_error_and_a_request_is_taken_once() {
    let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
    let checks = HealthChecks::new(client().await, &namespace);
    let dedicated = client().await;

    let idle = checks.next(&dedicated, Duration::from_secs(1)).await;
    assert!(
        matches!(idle, Ok(None)),
        "an idle wait ends with nothing, not an error: {idle:?}"
    );

    let id = ContainerId::new_random();
    assert_eq!(checks.request(id).await.unwrap(), Requested::Queued);
    assert_eq!(checks.request(id).await.unwrap(), Requested::AlreadyPending);
    let taken = checks
        .next(&dedicated, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(taken.map(|request| request.container_id), Some(id));
    assert!(matches!(
        checks.next(&dedicated, Duration::from_secs(1)).await,
        Ok(None)
    ));
}
