//! [`Runner`]: takes jobs off the queue and runs up to N at once through a [`JobHandler`].
//!
//! One loop takes jobs, as many as there are free slots at a time: first jobs other workers left
//! idle for [`RunnerConfig::reclaim_idle`] (their worker died), then new ones with one blocking
//! read on the [`Reader`]'s own connection. Each job runs in a task of its own beside a heartbeat
//! that keeps the job from being reclaimed while it runs. Finished jobs are acked by one ack task:
//! it takes every ack waiting and sends them in one call, so an ack goes out at once when the
//! worker is idle and acks share calls when it is busy. A job's slot is freed when its handler
//! returns, so the next read overlaps with its ack; its task ends when the ack is answered. So a process holds two Redis connections (the shared client and the reader's)
//! whatever the concurrency.
//!
//! On shutdown the loop stops taking jobs; running jobs see [`StopSignal::requested`] at their
//! next checkpoint and end with [`JobOutcome::Interrupted`], leaving the job pending for another
//! worker. Jobs still running after [`RunnerConfig::shutdown_deadline`] are aborted, which has
//! the same effect.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use backend::queue::{Delivery, Job, Queue, Reader};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How a job ended, as far as the queue is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Finished (ready, failed for good, or nothing to do): the job is acked.
    Done,
    /// The worker could not work on it (database down …): left pending, retried after the
    /// reclaim idle time.
    Retry,
    /// Stopped at a checkpoint (shutdown, or another worker took it over): left pending.
    Interrupted,
}

/// Why a job is asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The worker is shutting down.
    Shutdown,
    /// Another worker took the job over (this one missed its heartbeats).
    Lost,
}

/// Tells a running job to stop at its next checkpoint.
#[derive(Clone, Debug, Default)]
pub struct StopSignal {
    shutdown: CancellationToken,
    lost: CancellationToken,
}

impl StopSignal {
    /// A signal that fires when `shutdown` is cancelled.
    pub fn new(shutdown: CancellationToken) -> Self {
        StopSignal {
            shutdown,
            lost: CancellationToken::new(),
        }
    }

    /// Why the job should stop now, if it should.
    pub fn requested(&self) -> Option<StopReason> {
        if self.lost.is_cancelled() {
            Some(StopReason::Lost)
        } else if self.shutdown.is_cancelled() {
            Some(StopReason::Shutdown)
        } else {
            None
        }
    }

    fn mark_lost(&self) {
        self.lost.cancel();
    }
}

/// One delivery of a job, as a handler sees it.
#[derive(Clone, Debug)]
pub struct JobRun {
    pub job: Job,
    /// 1 for the first delivery; higher when the job was taken over from a worker that died.
    pub attempt: u64,
    /// Delivered more often than allowed: end the job instead of running it.
    pub exhausted: bool,
    pub stop: StopSignal,
}

/// What runs a job. Closures `Fn(JobRun) -> impl Future<Output = JobOutcome>` are handlers too.
pub trait JobHandler: Send + Sync + 'static {
    fn run(&self, run: JobRun) -> impl Future<Output = JobOutcome> + Send;
}

impl<F, Fut> JobHandler for F
where
    F: Fn(JobRun) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = JobOutcome> + Send,
{
    fn run(&self, run: JobRun) -> impl Future<Output = JobOutcome> + Send {
        self(run)
    }
}

/// How the runner takes and runs jobs.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// Jobs run at once.
    pub concurrency: usize,
    /// This process's consumer name in the queue's group; unique per process.
    pub consumer: String,
    /// Longest blocking read for a new job (the loop also wakes to reclaim).
    pub block: Duration,
    /// A job without a heartbeat for this long is taken over by another worker.
    pub reclaim_idle: Duration,
    /// How often a running job's heartbeat is sent; well below `reclaim_idle`.
    pub heartbeat: Duration,
    /// How long running jobs get to reach a checkpoint after shutdown is requested.
    pub shutdown_deadline: Duration,
}

impl RunnerConfig {
    /// Defaults for production: a unique consumer name, 120 s reclaim idle time, a heartbeat
    /// every quarter of it, 60 s shutdown deadline.
    pub fn new(concurrency: usize) -> Self {
        RunnerConfig {
            concurrency: concurrency.max(1),
            consumer: default_consumer_name(),
            block: Duration::from_secs(2),
            reclaim_idle: Duration::from_secs(120),
            heartbeat: Duration::from_secs(30),
            shutdown_deadline: Duration::from_secs(60),
        }
    }

    /// Sets the reclaim idle time and a heartbeat at a quarter of it.
    pub fn with_reclaim_idle(mut self, idle: Duration) -> Self {
        self.reclaim_idle = idle;
        self.heartbeat = (idle / 4).max(Duration::from_millis(50));
        self
    }

    pub fn with_shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.shutdown_deadline = deadline;
        self
    }

    /// How often the loop looks for idle jobs of dead workers.
    fn reclaim_interval(&self) -> Duration {
        (self.reclaim_idle / 2).clamp(Duration::from_millis(100), Duration::from_secs(30))
    }
}

/// `HOSTNAME-PID-RANDOM`: the name under which this process holds jobs.
pub fn default_consumer_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &random[..8])
}

/// What a run did, for the log and for tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Jobs acked.
    pub done: u64,
    /// Jobs left pending (interrupted or to retry).
    pub left_pending: u64,
    /// Jobs that panicked (left pending).
    pub panicked: u64,
    /// Jobs still running at the shutdown deadline, aborted (left pending).
    pub aborted: u64,
}

/// Most acks the ack task sends in one call.
const ACK_BATCH: usize = 256;

/// A finished job for the ack task, and where to say whether it was acked.
type AckRequest = (Delivery, oneshot::Sender<Result<bool, String>>);

/// Takes jobs off the queue and runs them with `H`.
pub struct Runner<H> {
    reader: Arc<Reader>,
    handler: Arc<H>,
    config: RunnerConfig,
}

impl<H: JobHandler> Runner<H> {
    pub fn new(reader: Reader, handler: H, config: RunnerConfig) -> Self {
        Runner {
            reader: Arc::new(reader),
            handler: Arc::new(handler),
            config,
        }
    }

    /// Runs jobs until `shutdown` is cancelled, then lets running jobs reach a checkpoint
    /// within the shutdown deadline and returns.
    pub async fn run(self, shutdown: CancellationToken) -> RunReport {
        let queue = self.reader.queue().clone();
        if let Err(e) = queue.ensure_group().await {
            tracing::warn!(error = %e, "could not create the consumer group yet");
        }
        let permits = Arc::new(Semaphore::new(self.config.concurrency));
        let (acks, ack_requests) = mpsc::unbounded_channel();
        let acker = tokio::spawn(ack_loop(queue.clone(), ack_requests));
        let mut tasks: JoinSet<JobOutcome> = JoinSet::new();
        let mut report = RunReport::default();
        let mut next_reclaim = Instant::now();
        tracing::info!(consumer = %self.config.consumer, concurrency = self.config.concurrency, "taking jobs");
        loop {
            while let Some(result) = tasks.try_join_next() {
                record(&mut report, result);
            }
            let first = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            };
            // Let jobs that are finishing hand back their slots, then take every free one.
            tokio::task::yield_now().await;
            let mut slots = vec![first];
            while slots.len() < self.config.concurrency {
                match permits.clone().try_acquire_owned() {
                    Ok(permit) => slots.push(permit),
                    Err(_) => break,
                }
            }
            let deliveries = self
                .take(&queue, slots.len(), &mut next_reclaim, &shutdown)
                .await;
            // At most one delivery per slot; slots left over are handed back when dropped.
            for (delivery, permit) in deliveries.into_iter().zip(slots) {
                tasks.spawn(run_one(
                    self.handler.clone(),
                    queue.clone(),
                    acks.clone(),
                    delivery,
                    self.config.heartbeat,
                    StopSignal::new(shutdown.clone()),
                    permit,
                ));
            }
        }
        tracing::info!(
            running = tasks.len(),
            deadline = ?self.config.shutdown_deadline,
            "stopped taking jobs; waiting for running ones to reach a checkpoint"
        );
        let deadline = tokio::time::sleep(self.config.shutdown_deadline);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                result = tasks.join_next() => match result {
                    Some(result) => record(&mut report, result),
                    None => break,
                },
                () = &mut deadline => {
                    report.aborted = tasks.len() as u64;
                    tracing::warn!(jobs = tasks.len(), "shutdown deadline passed; aborting running jobs (another worker resumes them)");
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                    break;
                }
            }
        }
        // Every job task has ended, so only acks of aborted jobs can still be waiting.
        drop(acks);
        if tokio::time::timeout(Duration::from_secs(10), acker)
            .await
            .is_err()
        {
            tracing::warn!("gave up sending the last acks; those jobs will be handed out again");
        }
        report
    }

    /// The next jobs, at most `max`: ones left idle by dead workers if the reclaim is due, else
    /// new ones (none when the read timed out or failed).
    async fn take(
        &self,
        queue: &Queue,
        max: usize,
        next_reclaim: &mut Instant,
        shutdown: &CancellationToken,
    ) -> Vec<Delivery> {
        let consumer = self.config.consumer.as_str();
        if Instant::now() >= *next_reclaim {
            match queue.reclaim(consumer, self.config.reclaim_idle, max).await {
                Ok(found) if !found.is_empty() => {
                    for delivery in &found {
                        tracing::info!(container.id = %delivery.job.container_id, attempt = delivery.deliveries, "took over a job whose worker stopped");
                    }
                    return found;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not look for abandoned jobs"),
            }
            *next_reclaim = Instant::now() + self.config.reclaim_interval();
        }
        let block = self.config.block.min(self.config.reclaim_interval());
        tokio::select! {
            _ = shutdown.cancelled() => Vec::new(),
            next = self.reader.next_batch(consumer, block, max) => match next {
                Ok(deliveries) => deliveries,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the job queue; trying again");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    Vec::new()
                }
            },
        }
    }
}

fn record(report: &mut RunReport, result: Result<JobOutcome, tokio::task::JoinError>) {
    match result {
        Ok(JobOutcome::Done) => report.done += 1,
        Ok(JobOutcome::Retry | JobOutcome::Interrupted) => report.left_pending += 1,
        Err(e) if e.is_panic() => {
            tracing::error!(error = %e, "a job panicked; it stays pending for a retry");
            report.panicked += 1;
        }
        Err(_) => report.aborted += 1,
    }
}

/// Sends the acks of finished jobs: waits for one, takes every other one waiting (up to
/// [`ACK_BATCH`]) and acks them all in one call. Ends when every sender is gone.
async fn ack_loop(queue: Queue, mut requests: mpsc::UnboundedReceiver<AckRequest>) {
    let mut batch: Vec<AckRequest> = Vec::with_capacity(ACK_BATCH);
    while requests.recv_many(&mut batch, ACK_BATCH).await > 0 {
        let (deliveries, replies): (Vec<Delivery>, Vec<_>) = batch.drain(..).unzip();
        match queue.ack_many(&deliveries).await {
            Ok(acked) => {
                for (reply, acked) in replies.into_iter().zip(acked) {
                    let _ = reply.send(Ok(acked));
                }
            }
            Err(e) => {
                let error = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// Runs one job beside its heartbeat, then acks it (through the ack task) if it is done.
async fn run_one<H: JobHandler>(
    handler: Arc<H>,
    queue: Queue,
    acks: mpsc::UnboundedSender<AckRequest>,
    delivery: Delivery,
    heartbeat_every: Duration,
    stop: StopSignal,
    permit: OwnedSemaphorePermit,
) -> JobOutcome {
    let span = tracing::info_span!("job", container.id = %delivery.job.container_id, attempt = delivery.deliveries);
    async {
        let run = JobRun {
            job: delivery.job.clone(),
            attempt: delivery.deliveries,
            exhausted: delivery.is_exhausted(),
            stop: stop.clone(),
        };
        let outcome = tokio::select! {
            outcome = handler.run(run) => outcome,
            never = heartbeat(&queue, &delivery, heartbeat_every, &stop) => match never {},
        };
        // The slot is free once the handler is done: the next read overlaps with this ack.
        drop(permit);
        if outcome == JobOutcome::Done {
            let (reply, acked) = oneshot::channel();
            let acked = match acks.send((delivery, reply)) {
                Ok(()) => acked
                    .await
                    .unwrap_or_else(|_| Err("the ack task stopped".into())),
                Err(_) => Err("the ack task stopped".into()),
            };
            if let Err(e) = acked {
                tracing::warn!(error = %e, "could not ack a finished job; it will be handed out again and skipped");
            }
        } else {
            tracing::info!(?outcome, "job left pending");
        }
        outcome
    }
    .instrument(span)
    .await
}

/// Keeps the job from being reclaimed; marks it lost when another worker took it over.
async fn heartbeat(
    queue: &Queue,
    delivery: &Delivery,
    every: Duration,
    stop: &StopSignal,
) -> std::convert::Infallible {
    loop {
        tokio::time::sleep(every).await;
        match queue.touch(delivery).await {
            Ok(true) => {}
            Ok(false) => {
                if stop.requested() != Some(StopReason::Lost) {
                    tracing::warn!(
                        "another worker took this job over; stopping at the next checkpoint"
                    );
                    stop.mark_lost();
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not send the job's heartbeat"),
        }
    }
}
