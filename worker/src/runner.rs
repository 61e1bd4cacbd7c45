//! [`Runner`]: takes jobs off the queue and runs up to N at once through a [`JobHandler`].
//!
//! The process holds a lease in Redis (`{namespace}:worker:{consumer}`), set before the first
//! read and renewed every quarter of [`RunnerConfig::lease_ttl`] by a task that does nothing
//! else (it also calls the renewal hook, which feeds the systemd watchdog). While the lease
//! lives its jobs stay with it however long they run; once it is gone (the process died or
//! hung) any worker's next scan takes them over (see `backend::queue`'s design notes).
//!
//! One loop takes jobs, as many as there are free slots at a time: every
//! [`RunnerConfig::scan_every`] first jobs of consumers without a lease, then new ones with one
//! blocking read on the [`Reader`]'s own connection. Each job runs in a task of its own beside a
//! watch that checks every [`RunnerConfig::check_every`] that the job is still this worker's and
//! whether its cancel was asked for. Finished jobs are acked by one ack task: it takes every
//! ack waiting and sends them in one call, so an ack goes out at once when the worker is idle
//! and acks share calls when it is busy. A job's slot is freed when its handler returns, so the
//! next read overlaps with its ack. A job the worker could not work on ([`JobOutcome::Retry`],
//! or a panic) is given back after [`RunnerConfig::retry_after`], and any worker delivers it
//! again. So a process holds two Redis connections (the shared client and the reader's)
//! whatever the concurrency.
//!
//! On shutdown the loop stops taking jobs; running jobs see [`StopSignal::requested`] at their
//! next checkpoint and end with [`JobOutcome::Interrupted`]. Jobs still running after
//! [`RunnerConfig::shutdown_deadline`] are aborted. Then the lease is dropped, so other workers
//! take the interrupted jobs over at their next scan.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use backend::queue::{Delivery, Held, Job, Queue, Reader};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument;

/// How a job ended, as far as the queue is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Finished (ready, failed for good, or nothing to do): the job is acked.
    Done,
    /// The worker could not work on it (database down …): given back after
    /// [`RunnerConfig::retry_after`] for any worker to run again.
    Retry,
    /// Stopped at a checkpoint (shutdown, or another worker took it over): left pending.
    Interrupted,
}

/// Why a job is asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The worker is shutting down.
    Shutdown,
    /// Another worker took the job over (this one's lease lapsed).
    Lost,
    /// A user asked for the creation to be cancelled.
    Cancelled,
}

/// Tells a running job to stop at its next checkpoint.
#[derive(Clone, Debug, Default)]
pub struct StopSignal {
    shutdown: CancellationToken,
    lost: CancellationToken,
    cancelled: CancellationToken,
    /// The job in the queue, asked again at each checkpoint.
    held: Option<Arc<HeldJob>>,
}

/// A delivery and its queue, for [`StopSignal::at_checkpoint`].
struct HeldJob {
    queue: Queue,
    delivery: Delivery,
}

impl std::fmt::Debug for HeldJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldJob")
            .field("entry_id", &self.delivery.entry_id)
            .finish_non_exhaustive()
    }
}

impl StopSignal {
    /// A signal that fires when `shutdown` is cancelled.
    pub fn new(shutdown: CancellationToken) -> Self {
        StopSignal {
            shutdown,
            ..StopSignal::default()
        }
    }

    /// Why the job should stop now, if it should. A job another worker took over stops first
    /// (that worker honours a cancel too); a cancel wins over a shutdown.
    pub fn requested(&self) -> Option<StopReason> {
        if self.lost.is_cancelled() {
            Some(StopReason::Lost)
        } else if self.cancelled.is_cancelled() {
            Some(StopReason::Cancelled)
        } else if self.shutdown.is_cancelled() {
            Some(StopReason::Shutdown)
        } else {
            None
        }
    }

    fn mark_lost(&self) {
        self.lost.cancel();
    }

    /// [`StopSignal::requested`] after asking the queue now: a cancel asked for a moment ago, or
    /// a takeover, is seen at this checkpoint rather than at the next periodic check.
    pub async fn at_checkpoint(&self) -> Option<StopReason> {
        if let Some(held) = &self.held {
            check(&held.queue, &held.delivery, self).await;
        }
        self.requested()
    }

    fn with_job(mut self, queue: Queue, delivery: Delivery) -> Self {
        self.held = Some(Arc::new(HeldJob { queue, delivery }));
        self
    }

    /// Marks the job cancelled by a user (the runner does this when the queue says so).
    pub fn mark_cancelled(&self) {
        self.cancelled.cancel();
    }
}

/// One delivery of a job, as a handler sees it.
#[derive(Clone, Debug)]
pub struct JobRun {
    pub job: Job,
    /// 1 for the first delivery; higher when the job was taken over from a worker that died,
    /// or handed out again after a retry.
    pub attempt: u64,
    /// The consumer whose lease was gone when this worker took the job over.
    pub taken_from: Option<String>,
    /// Attempts in a row without progress after which the job is given up.
    pub max_deliveries: u64,
    pub stop: StopSignal,
}

impl JobRun {
    /// How many attempts in a row ended without moving the job forward, when that reaches the
    /// limit (end the job instead of running it); `None` while it may still run. `advanced_in`
    /// is the attempt that last moved it forward (0 for none): a worker that keeps being
    /// restarted for reasons of its own does not end jobs that progress each time, while a job
    /// that stops its worker at the same step every time is given up.
    pub fn stalled(&self, advanced_in: u64) -> Option<u64> {
        let stalled = self.attempt.saturating_sub(advanced_in).saturating_sub(1);
        (stalled >= self.max_deliveries).then_some(stalled)
    }
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
    /// Longest blocking read for a new job (the loop also wakes to scan for takeovers).
    pub block: Duration,
    /// How long this process's lease lives unless renewed; it is renewed every quarter of it.
    pub lease_ttl: Duration,
    /// How often the loop looks for jobs of consumers whose lease is gone.
    pub scan_every: Duration,
    /// How often a running job checks that it is still this worker's and whether its cancel
    /// was asked for.
    pub check_every: Duration,
    /// How long a job the worker could not work on waits before it is given back.
    pub retry_after: Duration,
    /// How long running jobs get to reach a checkpoint after shutdown is requested.
    pub shutdown_deadline: Duration,
}

impl RunnerConfig {
    /// Defaults for production: a unique consumer name, an 8 s lease renewed every 2 s, a
    /// takeover scan and job checks every second, retries after 30 s, 60 s shutdown deadline.
    pub fn new(concurrency: usize) -> Self {
        RunnerConfig {
            concurrency: concurrency.max(1),
            consumer: default_consumer_name(),
            block: Duration::from_secs(2),
            lease_ttl: backend::queue::LEASE_TTL,
            scan_every: backend::queue::SCAN_EVERY,
            check_every: Duration::from_secs(1),
            retry_after: Duration::from_secs(30),
            shutdown_deadline: Duration::from_secs(60),
        }
    }

    /// Sets the lease's time to live (renewed every quarter of it).
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl.max(Duration::from_millis(200));
        self
    }

    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = delay;
        self
    }

    pub fn with_shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.shutdown_deadline = deadline;
        self
    }

    /// How often the lease is renewed.
    pub fn lease_renew_every(&self) -> Duration {
        self.lease_ttl / 4
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
    /// Jobs that panicked (given back like a retry).
    pub panicked: u64,
    /// Jobs still running at the shutdown deadline, aborted (left pending).
    pub aborted: u64,
}

/// Most acks the ack task sends in one call.
const ACK_BATCH: usize = 256;

/// A finished job for the ack task, and where to say whether it was acked.
type AckRequest = (Delivery, oneshot::Sender<Result<bool, String>>);

/// Called each time the lease loop runs (the systemd watchdog is fed from here).
pub type LeaseHook = Arc<dyn Fn() + Send + Sync>;

/// Takes jobs off the queue and runs them with `H`.
pub struct Runner<H> {
    reader: Arc<Reader>,
    handler: Arc<H>,
    config: RunnerConfig,
    on_lease_renewed: Option<LeaseHook>,
}

/// How a job's task ended.
enum Ended {
    Outcome(JobOutcome),
    Panicked,
}

impl<H: JobHandler> Runner<H> {
    pub fn new(reader: Reader, handler: H, config: RunnerConfig) -> Self {
        Runner {
            reader: Arc::new(reader),
            handler: Arc::new(handler),
            config,
            on_lease_renewed: None,
        }
    }

    /// Calls `hook` after each turn of the lease loop (renewed or not: the loop is alive).
    pub fn on_lease_renewed(mut self, hook: LeaseHook) -> Self {
        self.on_lease_renewed = Some(hook);
        self
    }

    /// Runs jobs until `shutdown` is cancelled, then lets running jobs reach a checkpoint
    /// within the shutdown deadline and returns.
    pub async fn run(self, shutdown: CancellationToken) -> RunReport {
        let queue = self.reader.queue().clone();
        if let Err(e) = queue.ensure_group().await {
            tracing::warn!(error = %e, "could not create the consumer group yet");
        }
        let consumer = self.config.consumer.clone();
        // The lease first: every job this process reads is covered by it.
        if let Err(e) = queue.renew_lease(&consumer, self.config.lease_ttl).await {
            tracing::warn!(error = %e, "could not take the worker's lease yet");
        }
        let lease = AbortOnDropHandle::new(tokio::spawn(keep_lease(
            queue.clone(),
            consumer.clone(),
            self.config.lease_ttl,
            self.config.lease_renew_every(),
            self.on_lease_renewed.clone(),
        )));
        let permits = Arc::new(Semaphore::new(self.config.concurrency));
        let (acks, ack_requests) = mpsc::unbounded_channel();
        let acker = tokio::spawn(ack_loop(queue.clone(), ack_requests));
        let mut tasks: JoinSet<Ended> = JoinSet::new();
        let mut report = RunReport::default();
        let mut next_scan = Instant::now();
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
                .take(&queue, slots.len(), &mut next_scan, &shutdown)
                .await;
            // At most one delivery per slot; slots left over are handed back when dropped.
            for (delivery, permit) in deliveries.into_iter().zip(slots) {
                tasks.spawn(run_one(
                    self.handler.clone(),
                    queue.clone(),
                    acks.clone(),
                    delivery,
                    self.config.clone(),
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
        // Jobs left pending are taken over at other workers' next scan, not after the TTL.
        drop(lease);
        if let Err(e) = queue.drop_lease(&consumer).await {
            tracing::warn!(error = %e, "could not drop the lease; it expires on its own");
        }
        report
    }

    /// The next jobs, at most `max`: ones of consumers without a lease if the scan is due,
    /// else new ones (none when the read timed out or failed).
    async fn take(
        &self,
        queue: &Queue,
        max: usize,
        next_scan: &mut Instant,
        shutdown: &CancellationToken,
    ) -> Vec<Delivery> {
        let consumer = self.config.consumer.as_str();
        if Instant::now() >= *next_scan {
            *next_scan = Instant::now() + self.config.scan_every;
            match queue.take_over(consumer, max).await {
                Ok(found) if !found.is_empty() => {
                    for delivery in &found {
                        match &delivery.taken_from {
                            Some(from) => {
                                tracing::info!(container.id = %delivery.job.container_id, attempt = delivery.deliveries, from = %from, "took over a job whose worker stopped")
                            }
                            None => {
                                tracing::info!(container.id = %delivery.job.container_id, attempt = delivery.deliveries, "took a job given back for a retry")
                            }
                        }
                    }
                    return found;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not look for jobs of stopped workers"),
            }
        }
        let block = self.config.block.min(self.config.scan_every);
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

fn record(report: &mut RunReport, result: Result<Ended, tokio::task::JoinError>) {
    match result {
        Ok(Ended::Outcome(JobOutcome::Done)) => report.done += 1,
        Ok(Ended::Outcome(JobOutcome::Retry | JobOutcome::Interrupted)) => {
            report.left_pending += 1;
        }
        Ok(Ended::Panicked) => report.panicked += 1,
        Err(_) => report.aborted += 1,
    }
}

/// Renews the lease every `every` until aborted, then calls `hook`. Each renewal is bounded
/// by `every`, so a Redis that does not answer never stops the loop (nor the watchdog).
async fn keep_lease(
    queue: Queue,
    consumer: String,
    ttl: Duration,
    every: Duration,
    hook: Option<LeaseHook>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match tokio::time::timeout(every, queue.renew_lease(&consumer, ttl)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not renew the worker's lease"),
            Err(_) => tracing::warn!("renewing the worker's lease timed out"),
        }
        if let Some(hook) = &hook {
            hook();
        }
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

/// Runs one job beside its watch, then acks it (through the ack task) if it is done, or gives
/// it back after `retry_after` if the worker could not work on it.
async fn run_one<H: JobHandler>(
    handler: Arc<H>,
    queue: Queue,
    acks: mpsc::UnboundedSender<AckRequest>,
    delivery: Delivery,
    config: RunnerConfig,
    stop: StopSignal,
    permit: OwnedSemaphorePermit,
) -> Ended {
    let span = tracing::info_span!("job", container.id = %delivery.job.container_id, attempt = delivery.deliveries);
    async {
        let stop = stop.with_job(queue.clone(), delivery.clone());
        // A cancel asked for before this delivery is seen before the handler starts.
        check(&queue, &delivery, &stop).await;
        let run = JobRun {
            job: delivery.job.clone(),
            attempt: delivery.deliveries,
            taken_from: delivery.taken_from.clone(),
            max_deliveries: delivery.max_deliveries(),
            stop: stop.clone(),
        };
        // In a task of its own, so a panic ends this job only and is seen here.
        let job = {
            let handler = handler.clone();
            AbortOnDropHandle::new(tokio::spawn(
                async move { handler.run(run).await }.in_current_span(),
            ))
        };
        let ended = tokio::select! {
            result = job => match result {
                Ok(outcome) => Ended::Outcome(outcome),
                Err(e) => {
                    tracing::error!(error = %e, "the job panicked; it is given back for a retry");
                    Ended::Panicked
                }
            },
            never = watch(&queue, &delivery, config.check_every, &stop) => match never {},
        };
        // The slot is free once the handler is done: the next read overlaps with this ack.
        drop(permit);
        match ended {
            Ended::Outcome(JobOutcome::Done) => ack(&acks, delivery).await,
            Ended::Outcome(JobOutcome::Interrupted) => tracing::info!("job left pending"),
            Ended::Outcome(JobOutcome::Retry) | Ended::Panicked => {
                give_back(&queue, &delivery, config.retry_after, &stop).await;
            }
        }
        ended
    }
    .instrument(span)
    .await
}

/// Acks a finished job through the ack task.
async fn ack(acks: &mpsc::UnboundedSender<AckRequest>, delivery: Delivery) {
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
}

/// Waits `after` (less if the worker shuts down), then hands the job back for any worker.
async fn give_back(queue: &Queue, delivery: &Delivery, after: Duration, stop: &StopSignal) {
    tracing::info!(retry_in = ?after, "the job will be handed out again");
    tokio::select! {
        () = tokio::time::sleep(after) => {}
        () = stop.shutdown.cancelled() => {}
    }
    if let Err(e) = queue.release(delivery).await {
        tracing::warn!(error = %e, "could not give the job back; it is taken over once this worker stops");
    }
}

/// Checks every `every` that the job is still held and whether its cancel was asked for.
async fn watch(
    queue: &Queue,
    delivery: &Delivery,
    every: Duration,
    stop: &StopSignal,
) -> std::convert::Infallible {
    loop {
        tokio::time::sleep(every).await;
        check(queue, delivery, stop).await;
    }
}

/// One check of the job in the queue; marks the stop signal accordingly.
async fn check(queue: &Queue, delivery: &Delivery, stop: &StopSignal) {
    match queue.check(delivery).await {
        Ok(Held::Held) => {}
        Ok(Held::CancelRequested) => {
            if stop.requested() != Some(StopReason::Cancelled) {
                tracing::info!("cancel requested; stopping at the next checkpoint");
                stop.mark_cancelled();
            }
        }
        Ok(Held::Lost) => {
            if stop.requested() != Some(StopReason::Lost) {
                tracing::warn!(
                    "another worker took this job over; stopping at the next checkpoint"
                );
                stop.mark_lost();
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not check the job in the queue"),
    }
}
