//! Live status: what each container's Proxmox node says about it (running, stopped, missing,
//! node unreachable; uptime, CPU, memory, disk), kept fresh by pollers shared by every viewer.
//!
//! A poller asks one node for one thing: `GET /nodes/{node}/lxc` for the container list (one
//! poller per node), or `status/current` for a container's page (one per container). It starts
//! when someone first asks, asks Proxmox every [`PollSettings::interval`], keeps the last
//! answer, and stops once nobody asked for [`PollSettings::idle_after`]. Viewers read the kept
//! answer and never wait for Proxmox (but for up to [`PollSettings::first_answer_wait`] when a
//! poller has just started), so any number of viewers costs one Proxmox call per node per
//! interval. Every call is cut off after [`PollSettings::node_timeout`], so a node that does not
//! answer shows as unreachable on its own rows and holds up no other node's poller.

use super::ServiceError;
use super::nodes::NodeSession;
use crate::crypto::SecretBox;
use crate::db::DbPool;
use crate::models::ContainerRow;
use domain::usage::{LiveStatus, NodeView, Usage};
use domain::{ContainerId, NodeId};
use pve_client::PveError;
use pve_client::lxc::{CtStatus, CtSummary, CtUsage, GuestState};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// How often and how patiently the pollers ask.
#[derive(Clone, Copy, Debug)]
pub struct PollSettings {
    /// Time between two questions to the same node.
    pub interval: Duration,
    /// How long one question (opening the node's session included) may take.
    pub node_timeout: Duration,
    /// A poller nobody read for this long stops.
    pub idle_after: Duration,
    /// How long a reader waits for a poller's first answer before it reports "checking".
    pub first_answer_wait: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            interval: Duration::from_secs(2),
            node_timeout: Duration::from_secs(5),
            idle_after: Duration::from_secs(15),
            first_answer_wait: Duration::from_secs(1),
        }
    }
}

/// The process's pollers; cheap to clone, clones share them.
#[derive(Clone, Default)]
pub struct LiveStatusHub {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    settings: PollSettings,
    pollers: Mutex<HashMap<Source, Arc<Poller>>>,
}

/// What a poller asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Source {
    /// Every container on the node.
    Node(NodeId),
    /// One container's `status/current`.
    Container(NodeId, u32),
}

impl Source {
    fn node(self) -> NodeId {
        match self {
            Source::Node(node) | Source::Container(node, _) => node,
        }
    }
}

/// What a node said: the containers it reported (all, or the one asked for), or why it did not
/// answer, in words for the user.
type Answer = Result<Arc<Vec<Guest>>, String>;

/// One container as its node reported it.
#[derive(Clone, Debug)]
struct Guest {
    vmid: u32,
    name: Option<String>,
    running: bool,
    usage: Usage,
}

struct Poller {
    last_read: Mutex<Instant>,
    answer: watch::Sender<Option<Answer>>,
    /// Makes the poller ask now instead of at the end of its interval.
    wake: Notify,
}

impl Poller {
    fn touch(&self) {
        *lock(&self.last_read) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        lock(&self.last_read).elapsed()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LiveStatusHub {
    pub fn new(settings: PollSettings) -> Self {
        LiveStatusHub {
            inner: Arc::new(Inner {
                settings,
                pollers: Mutex::default(),
            }),
        }
    }

    /// Every container's view, newest container first (the container list).
    pub async fn all(
        &self,
        db: &DbPool,
        secrets: &SecretBox,
    ) -> Result<Vec<LiveStatus>, ServiceError> {
        let rows = {
            let mut conn = super::conn(db).await?;
            ContainerRow::list(&mut conn).await?
        };
        let mut sources: Vec<Source> = rows.iter().map(|r| Source::Node(r.node_id)).collect();
        sources.sort_by_key(|s| s.node());
        sources.dedup();
        let answers = self.answers(&sources, db, secrets).await;
        Ok(rows
            .iter()
            .map(|row| LiveStatus {
                id: row.id,
                view: view_of(row, answers.get(&Source::Node(row.node_id))),
            })
            .collect())
    }

    /// One container's view, from its own `status/current` (the container's page).
    pub async fn one(
        &self,
        db: &DbPool,
        secrets: &SecretBox,
        id: ContainerId,
    ) -> Result<LiveStatus, ServiceError> {
        let row = {
            let mut conn = super::conn(db).await?;
            ContainerRow::find(&mut conn, id).await?
        };
        let source = Source::Container(row.node_id, row.vmid.get());
        let answers = self.answers(&[source], db, secrets).await;
        Ok(LiveStatus {
            id,
            view: view_of(&row, answers.get(&source)),
        })
    }

    /// Makes every running poller ask again now (after a power action changed what one would
    /// answer).
    pub fn refresh_all(&self) {
        for poller in lock(&self.inner.pollers).values() {
            poller.wake.notify_one();
        }
    }

    /// How many pollers run.
    pub fn running_pollers(&self) -> usize {
        lock(&self.inner.pollers).len()
    }

    /// The kept answers for `sources`, starting the pollers that do not run; waits up to
    /// [`PollSettings::first_answer_wait`] in all for pollers without an answer yet.
    async fn answers(
        &self,
        sources: &[Source],
        db: &DbPool,
        secrets: &SecretBox,
    ) -> HashMap<Source, Answer> {
        let receivers: Vec<_> = sources
            .iter()
            .map(|&source| (source, self.watch(source, db, secrets)))
            .collect();
        let deadline = tokio::time::Instant::now() + self.inner.settings.first_answer_wait;
        let mut answers = HashMap::new();
        for (source, mut receiver) in receivers {
            if receiver.borrow().is_none() {
                let first = receiver.wait_for(Option::is_some);
                let _ = tokio::time::timeout_at(deadline, first).await;
            }
            if let Some(answer) = receiver.borrow().clone() {
                answers.insert(source, answer);
            }
        }
        answers
    }

    /// The poller for `source` (started if none runs), marked as read now.
    fn watch(
        &self,
        source: Source,
        db: &DbPool,
        secrets: &SecretBox,
    ) -> watch::Receiver<Option<Answer>> {
        let mut pollers = lock(&self.inner.pollers);
        let poller = pollers.entry(source).or_insert_with(|| {
            let poller = Arc::new(Poller {
                last_read: Mutex::new(Instant::now()),
                answer: watch::Sender::new(None),
                wake: Notify::new(),
            });
            tokio::spawn(poll(
                self.inner.clone(),
                source,
                poller.clone(),
                db.clone(),
                secrets.clone(),
            ));
            poller
        });
        poller.touch();
        poller.answer.subscribe()
    }
}

impl Inner {
    /// Removes `poller` when nobody read it for [`PollSettings::idle_after`]; whether it should
    /// stop. Readers mark a poller under the same lock, so none is removed while being read.
    fn retire_if_idle(&self, source: Source, poller: &Arc<Poller>) -> bool {
        let mut pollers = lock(&self.pollers);
        if poller.idle_for() < self.settings.idle_after {
            return false;
        }
        if pollers.get(&source).is_some_and(|p| Arc::ptr_eq(p, poller)) {
            pollers.remove(&source);
        }
        true
    }
}

/// A poller's loop: ask, keep the answer, wait, until nobody reads it.
async fn poll(
    inner: Arc<Inner>,
    source: Source,
    poller: Arc<Poller>,
    db: DbPool,
    secrets: SecretBox,
) {
    let settings = inner.settings;
    let mut session: Option<NodeSession> = None;
    loop {
        let asked = tokio::time::timeout(
            settings.node_timeout,
            ask(&mut session, source, &db, &secrets),
        )
        .await;
        let answer = match asked {
            Ok(Ok(guests)) => Ok(Arc::new(guests)),
            Ok(Err(reason)) => Err(reason),
            Err(_) => Err(format!(
                "The node did not answer within {} s.",
                settings.node_timeout.as_secs_f32()
            )),
        };
        if let Err(reason) = &answer {
            let failed_before = matches!(*poller.answer.borrow(), Some(Err(_)));
            if !failed_before {
                tracing::info!(node.id = %source.node(), %reason, "live status: node unreachable");
            }
            session = None;
        }
        poller.answer.send_replace(Some(answer));
        tokio::select! {
            () = tokio::time::sleep(settings.interval) => {}
            () = poller.wake.notified() => {}
        }
        if inner.retire_if_idle(source, &poller) {
            return;
        }
    }
}

/// One question to the node, opening its session first when there is none.
async fn ask(
    session: &mut Option<NodeSession>,
    source: Source,
    db: &DbPool,
    secrets: &SecretBox,
) -> Result<Vec<Guest>, String> {
    if session.is_none() {
        let opened = NodeSession::open(db, secrets, source.node()).await;
        *session = Some(opened.map_err(|e| e.to_string())?);
    }
    let Some(node) = session.as_ref() else {
        return Err("The node's session could not be opened.".into());
    };
    let pve_node = node.pve_node.as_str();
    let asked = match source {
        Source::Node(_) => node
            .client
            .lxc_list(pve_node)
            .await
            .map(|list| list.iter().map(Guest::listed).collect()),
        Source::Container(_, vmid) => match node.client.lxc_status(pve_node, vmid).await {
            Ok(status) => Ok(vec![Guest::current(&status)]),
            Err(PveError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        },
    };
    asked.map_err(|e| format!("Cannot reach Proxmox node '{}': {e}", node.row.name))
}

impl Guest {
    fn listed(ct: &CtSummary) -> Guest {
        Guest::new(ct.vmid, ct.name.clone(), ct.status, &ct.usage)
    }

    fn current(ct: &CtStatus) -> Guest {
        Guest::new(ct.vmid, ct.name.clone(), ct.status, &ct.usage)
    }

    fn new(vmid: u32, name: Option<String>, status: GuestState, usage: &CtUsage) -> Guest {
        Guest {
            vmid,
            name,
            running: status == GuestState::Running,
            usage: Usage {
                cpu: usage.cpu.unwrap_or_default(),
                cpus: usage.cpus.unwrap_or_default(),
                mem: usage.mem.unwrap_or_default(),
                maxmem: usage.maxmem.unwrap_or_default(),
                disk: usage.disk.unwrap_or_default(),
                maxdisk: usage.maxdisk.unwrap_or_default(),
                uptime_secs: usage.uptime.unwrap_or_default(),
            },
        }
    }
}

/// The container's view in the node's answer: a guest with its VMID is it only when the names
/// agree (a guest that took over the VMID under another name is someone else's).
fn view_of(row: &ContainerRow, answer: Option<&Answer>) -> NodeView {
    match answer {
        None => NodeView::Checking,
        Some(Err(reason)) => NodeView::Unreachable {
            reason: reason.clone(),
        },
        Some(Ok(guests)) => {
            let vmid = row.vmid.get();
            match guests.iter().find(|g| g.vmid == vmid) {
                Some(g) if g.name.as_deref().is_none_or(|n| row.hostname == n) => {
                    if g.running {
                        NodeView::Running(g.usage.clone())
                    } else {
                        NodeView::Stopped
                    }
                }
                _ => NodeView::Missing,
            }
        }
    }
}
