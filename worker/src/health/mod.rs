//! Service health: on request (through Redis, see [`backend::health`]) the worker checks a
//! ready container's discovered services, each unit's systemd state, whether its port is
//! listening and a failed unit's last journal lines, and stores the report for the container
//! page. The check runs here, not in the server, because it needs the container's own key
//! (sealed in its row) and, when the container's sshd does not answer, the node key, which
//! only the worker holds.
//!
//! # Layout
//! - [`HealthChecker`]: one check of one container ([`HealthChecker::check`]).
//! - `reach`: the container's own sshd with its pinned host key, else `pct` through the node.
//! - `probe`: the commands run in the container and what their output means.
//! - [`serve`]: the loop taking requests off Redis, a few checks at a time.

mod probe;
mod reach;

use std::sync::Arc;
use std::time::Duration;

use backend::crypto::SecretBox;
use backend::db::DbPool;
use backend::events::Redactor;
use backend::health::HealthChecks;
use backend::models::{ContainerRow, CredentialRow, NodeRow, ServiceRow};
use backend::redis::RedisClient;
use domain::ContainerId;
use domain::container::Lifecycle;
use domain::health::{HealthReport, PortState, ServiceHealth, UnitState};
use remote_shell::DeployKey;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Limits of the checks.
#[derive(Clone, Debug)]
pub struct HealthSettings {
    /// Checks run at once.
    pub concurrency: usize,
    /// How often a page left open asks for a new check (sent to it in each report).
    pub refresh: Duration,
    /// The port containers' sshd listens on.
    pub container_ssh_port: u16,
    /// Limit for one SSH connection attempt (there is one attempt per way in).
    pub connect_timeout: Duration,
    /// Limit for each command run in the container.
    pub command_timeout: Duration,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            concurrency: 4,
            refresh: Duration::from_secs(180),
            container_ssh_port: 22,
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(20),
        }
    }
}

/// Why a check could not be made at all: the worker's database failed.
#[derive(Debug)]
pub struct CheckError(String);

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database: {}", self.0)
    }
}

impl std::error::Error for CheckError {}

impl From<diesel::result::Error> for CheckError {
    fn from(e: diesel::result::Error) -> Self {
        CheckError(e.to_string())
    }
}

/// What a check needs from the process: the database, the key for secrets at rest and the
/// node key (for the `pct` fallback only).
#[derive(Clone)]
pub struct HealthChecker {
    db: DbPool,
    secrets: SecretBox,
    node_key: DeployKey,
    settings: HealthSettings,
}

impl HealthChecker {
    pub fn new(
        db: DbPool,
        secrets: SecretBox,
        node_key: DeployKey,
        settings: HealthSettings,
    ) -> Self {
        HealthChecker {
            db,
            secrets,
            node_key,
            settings,
        }
    }

    /// Checks the services of container `id`; `None` when it no longer exists or is not ready.
    pub async fn check(&self, id: ContainerId) -> Result<Option<HealthReport>, CheckError> {
        let mut conn = self.db.get().await.map_err(|e| CheckError(e.to_string()))?;
        let row = match ContainerRow::find(&mut conn, id).await {
            Ok(row) => row,
            Err(diesel::result::Error::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if row.lifecycle != Lifecycle::Ready {
            return Ok(None);
        }
        let services = ServiceRow::list(&mut conn, id).await?;
        let node = NodeRow::find(&mut conn, row.node_id).await?;
        let redactor = self.redactor(&mut conn, id).await?;
        drop(conn);

        let mut report = HealthReport {
            checked_at: unix_now(),
            via: None,
            note: None,
            problem: None,
            services: Vec::new(),
            refresh_secs: u32::try_from(self.settings.refresh.as_secs()).unwrap_or(u32::MAX),
        };
        let reached = match reach::reach(self, &row, &node).await {
            Ok(reached) => reached,
            Err(problem) => {
                report.problem = Some(problem);
                report.services = services
                    .iter()
                    .map(|s| ServiceHealth {
                        name: s.name.clone(),
                        port: s.port,
                        unit: UnitState::Unknown,
                        port_state: s.port.map(|_| PortState::Unknown),
                        journal: Vec::new(),
                    })
                    .collect();
                return Ok(Some(report));
            }
        };
        report.via = Some(reached.via);
        report.note = reached.note.clone();
        let found = probe::probe(&reached.target, &services, &self.settings).await;
        report.problem = found.problem;
        report.services = found
            .services
            .into_iter()
            .map(|mut s| {
                s.journal = s
                    .journal
                    .iter()
                    .map(|line| redactor.apply(line).into_owned())
                    .collect();
                s
            })
            .collect();
        reached.close().await;
        report.checked_at = unix_now();
        Ok(Some(report))
    }

    /// Hides the container's credentials in journal lines (a service may log its password).
    async fn redactor(
        &self,
        conn: &mut backend::db::DbConn,
        id: ContainerId,
    ) -> Result<Redactor, CheckError> {
        let mut redactor = Redactor::default();
        for name in CredentialRow::names(conn, id).await? {
            match CredentialRow::reveal(conn, &self.secrets, id, &name).await {
                Ok(Some(credential)) => redactor.add(credential.value),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(credential = %name, error = %e, "cannot open a credential to hide it in journal lines")
                }
            }
        }
        Ok(redactor)
    }
}

/// How long one wait for a request blocks before it looks at `shutdown` again.
const WAIT: Duration = Duration::from_secs(5);

/// Takes check requests off Redis with `dedicated` (a client nothing else uses) and runs up to
/// [`HealthSettings::concurrency`] at once, until `shutdown` is cancelled. A request taken
/// just before a stop is lost; its pending mark lapses and the page asks again.
pub async fn serve(
    checker: HealthChecker,
    checks: HealthChecks,
    dedicated: RedisClient,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(
        checker.settings.concurrency.max(1),
    ));
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => return,
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let next = tokio::select! {
            _ = shutdown.cancelled() => return,
            next = checks.next(&dedicated, WAIT) => next,
        };
        let request = match next {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read service-check requests; trying again");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        let (checker, checks) = (checker.clone(), checks.clone());
        let id = request.container_id;
        let span = tracing::info_span!("health", container.id = %id);
        tokio::spawn(
            async move {
                let _permit = permit;
                run_one(&checker, &checks, id).await;
            }
            .instrument(span),
        );
    }
}

/// One check, its report stored (or the pending mark dropped when there is none).
async fn run_one(checker: &HealthChecker, checks: &HealthChecks, id: ContainerId) {
    let stored = match checker.check(id).await {
        Ok(Some(report)) => {
            tracing::info!(via = ?report.via, problem = report.problem.is_some(), "services checked");
            checks.store(id, &report).await
        }
        Ok(None) => {
            tracing::info!("not checked: the container is gone or not ready");
            checks.finish(id).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not check the services");
            checks.finish(id).await
        }
    };
    if let Err(e) = stored {
        tracing::warn!(error = %e, "could not store the service check");
    }
}

/// Seconds since the Unix epoch.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
