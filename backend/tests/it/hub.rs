//! The progress hub fanning published batches out to many streams of one container, through a
//! real Redis: to each stream's mailbox, or to its direct sink where the stream has one that
//! takes the batch; on one thread, and shared out among the runtime's workers from 256 streams.

use backend::events::{self, Batch, DirectSink, HubMessage, ProgressHub};
use domain::event::EventKind;
use domain::{ContainerId, UserId};
use fred::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::fixtures::progress_event;

/// A sink that takes every batch and notes its events' seqs.
#[derive(Default)]
struct RecordingSink {
    seqs: Mutex<Vec<i64>>,
}

impl DirectSink for RecordingSink {
    fn offer(&self, batch: &Arc<Batch>) -> bool {
        let mut seqs = self.seqs.lock().unwrap();
        seqs.extend(batch.events().iter().map(|event| event.seq));
        true
    }
}

/// `streams` subscriptions to one container, every third with a direct sink; 12 batches
/// published; each stream gets each batch once, in order, one way or the other.
async fn every_stream_gets_every_batch_in_order(streams: usize) {
    // Fewer than a mailbox holds before its stream has to resync.
    const BATCHES: i64 = 12;
    let hub = ProgressHub::connect(&testkit::redis_url()).await.unwrap();
    let container = ContainerId::new_random();
    let mut subscriptions = Vec::new();
    let mut sinks = Vec::new();
    let mut kept = Vec::new();
    for n in 0..streams {
        let subscription = hub.subscribe(container).await.unwrap();
        if n % 3 == 0 {
            let sink = Arc::new(RecordingSink::default());
            let watch = hub.watch_session(UserId::new_random(), vec![1]);
            subscription.set_direct(sink.clone(), &watch);
            sinks.push(sink);
            kept.push((subscription, watch));
        } else {
            subscriptions.push(subscription);
        }
    }
    assert_eq!(hub.stream_count(container), streams);

    let redis = backend::redis::connect(&testkit::redis_url())
        .await
        .unwrap();
    for seq in 1..=BATCHES {
        let batch = [progress_event(seq, EventKind::Log)];
        let _: i64 = redis
            .publish(events::channel(container), events::encode(&batch))
            .await
            .unwrap();
    }

    let expected: Vec<i64> = (1..=BATCHES).collect();
    for subscription in &mut subscriptions {
        let mut seqs = Vec::new();
        while seqs.len() < expected.len() {
            let message = tokio::time::timeout(Duration::from_secs(10), subscription.recv())
                .await
                .expect("every batch reaches every mailbox");
            match message {
                HubMessage::Events(batch) => seqs.extend(batch.events().iter().map(|e| e.seq)),
                HubMessage::Resync => {
                    panic!("a stream is told to resync only after 16 unread messages")
                }
            }
        }
        assert_eq!(seqs, expected);
        assert!(subscription.try_recv().is_none(), "nothing twice");
    }
    for sink in &sinks {
        // The last batch may still be on its way to sinks in another share.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while sink.seqs.lock().unwrap().len() < expected.len()
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(*sink.seqs.lock().unwrap(), expected);
    }
}

#[tokio::test]
async fn a_few_streams_get_every_batch_from_one_thread() {
    every_stream_gets_every_batch_in_order(30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_streams_get_every_batch_when_the_fan_out_is_shared_out() {
    every_stream_gets_every_batch_in_order(600).await;
}
