//! Storing a new container and queueing its job against a real PostgreSQL and Redis: calls
//! racing for one VMID or one request key end with one row and one job.

use backend::creation::{CreateError, Stored, store_and_enqueue};
use backend::db::DbPool;
use backend::models::{ContainerRow, NewContainer};
use backend::queue::{Queue, QueueKeys};
use domain::NodeId;
use domain::container::Lifecycle;
use fred::prelude::*;

struct Fixture {
    db: DbPool,
    queue: Queue,
    redis: backend::redis::RedisClient,
    node: NodeId,
}

async fn fixture() -> Fixture {
    let db = backend::db::pool(&testkit::migrated_database().await, 4).unwrap();
    let mut conn = db.get().await.unwrap();
    let node = testkit::fixtures::unreachable_node(&mut conn).await.id;
    let redis = backend::redis::connect(&testkit::redis_url())
        .await
        .unwrap();
    let queue = Queue::with_keys(redis.clone(), QueueKeys::namespaced(&testkit::unique("q")));
    Fixture {
        db,
        queue,
        redis,
        node,
    }
}

impl Fixture {
    fn container(&self, vmid: u32) -> NewContainer {
        testkit::fixtures::new_container(&testkit::fixtures::spec(self.node, vmid, "ct"), None)
    }

    /// Stores `new` under `key` on a connection of its own.
    async fn store(&self, new: NewContainer, key: uuid::Uuid) -> Result<Stored, CreateError> {
        let mut conn = self.db.get().await.unwrap();
        store_and_enqueue(&mut conn, &self.queue, &new, key).await
    }

    async fn rows(&self) -> usize {
        let mut conn = self.db.get().await.unwrap();
        ContainerRow::list(&mut conn).await.unwrap().len()
    }

    async fn jobs(&self) -> i64 {
        self.redis.xlen(&self.queue.keys().stream).await.unwrap()
    }
}

#[tokio::test]
async fn two_calls_for_one_vmid_at_once_store_one_container() {
    let f = fixture().await;
    for _ in 0..5 {
        let vmid = 100 + u32::try_from(f.rows().await).unwrap();
        let (a, b) = tokio::join!(
            f.store(f.container(vmid), uuid::Uuid::new_v4()),
            f.store(f.container(vmid), uuid::Uuid::new_v4()),
        );
        let (won, lost) = match (a, b) {
            (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
            other => panic!("one call should win: {other:?}"),
        };
        assert!(matches!(won, Stored::Created(_)));
        assert!(matches!(lost, CreateError::VmidHeld(v) if v.get() == vmid));
    }
    assert_eq!(f.rows().await, 5);
    assert_eq!(f.jobs().await, 5);
}

#[tokio::test]
async fn one_request_key_stores_one_container_even_with_different_vmids() {
    let f = fixture().await;
    let key = uuid::Uuid::new_v4();
    let (a, b) = tokio::join!(
        f.store(f.container(200), key),
        f.store(f.container(201), key)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.id(), b.id());
    assert!(
        matches!(
            (a, b),
            (Stored::Created(_), Stored::Existing(_)) | (Stored::Existing(_), Stored::Created(_))
        ),
        "{a:?} {b:?}"
    );
    let again = f.store(f.container(202), key).await.unwrap();
    assert_eq!(again, Stored::Existing(a.id()));
    assert_eq!(f.rows().await, 1);
    assert_eq!(f.jobs().await, 1);
}

#[tokio::test]
async fn a_vmid_is_free_again_once_its_container_is_no_longer_creating() {
    let f = fixture().await;
    let first = f
        .store(f.container(300), uuid::Uuid::new_v4())
        .await
        .unwrap();
    let held = f.store(f.container(300), uuid::Uuid::new_v4()).await;
    assert!(
        matches!(held, Err(CreateError::VmidHeld(v)) if v.get() == 300),
        "{held:?}"
    );
    let mut conn = f.db.get().await.unwrap();
    ContainerRow::set_lifecycle(&mut conn, first.id(), Lifecycle::Error, Some("failed"))
        .await
        .unwrap();
    let again = f.store(f.container(300), uuid::Uuid::new_v4()).await;
    assert!(matches!(again, Ok(Stored::Created(_))), "{again:?}");
}

#[tokio::test]
async fn a_container_left_creating_without_a_job_is_queued_again_once() {
    use backend::creation::requeue_stalled;
    use std::time::Duration;
    let f = fixture().await;
    let mut conn = f.db.get().await.unwrap();
    // A row stored by a create call that died before it queued the job.
    let orphan = ContainerRow::insert(&mut conn, &f.container(200))
        .await
        .unwrap()
        .id;
    let mut ready = f.container(201);
    ready.lifecycle = Lifecycle::Ready;
    ContainerRow::insert(&mut conn, &ready).await.unwrap();
    // A create call in progress (just stored) is left alone.
    assert!(
        requeue_stalled(&mut conn, &f.queue, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(f.jobs().await, 0);

    let requeued = requeue_stalled(&mut conn, &f.queue, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(requeued, vec![orphan]);
    assert_eq!(f.jobs().await, 1);
    // Its job is open now: running the sweep again adds nothing.
    assert!(
        requeue_stalled(&mut conn, &f.queue, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(f.jobs().await, 1);
}
