//! Containers infrahaus creates: their lifecycle and the pipeline phases.

use crate::ContainerId;
use crate::spec::ContainerSpec;
use crate::text_enum;
use serde::{Deserialize, Serialize};

text_enum!(
    /// Where a container is in its life as infrahaus sees it.
    Lifecycle {
        /// Queued or being created by a worker.
        Creating => "creating",
        /// Created, started and configured.
        Ready => "ready",
        /// Creation (or an update) failed; the events say why.
        Error => "error",
        /// Ready, and a worker is applying its template again (an update run).
        Updating => "updating",
    }
);

text_enum!(
    /// The five phases of the creation pipeline, in order.
    Phase {
        Create => "create",
        Start => "start",
        Deploy => "deploy",
        Sync => "sync",
        Finalize => "finalize",
    }
);

impl Phase {
    /// The percent range of the progress bar this phase covers.
    pub fn percent_range(self) -> (u8, u8) {
        match self {
            Phase::Create => (0, 20),
            Phase::Start => (20, 35),
            Phase::Deploy => (35, 60),
            Phase::Sync => (60, 90),
            Phase::Finalize => (90, 100),
        }
    }

    /// The label the progress page shows.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Create => "Create",
            Phase::Start => "Start",
            Phase::Deploy => "Deploy",
            Phase::Sync => "Sync",
            Phase::Finalize => "Finalize",
        }
    }
}

/// How a cancelled creation ends: the message of its last event and of the container's error
/// (lifecycle `error`, so Delete and Retry work as after a failure).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cancelled {
    /// No container was created on the node.
    BeforeCreate,
    /// The container exists on the node and is stopped.
    Stopped { vmid: u32, node: String },
    /// The container may exist on the node, which could not be reached to stop it.
    Unknown { vmid: u32, node: String },
}

impl Cancelled {
    /// What every cancel message starts with (the progress page tells cancels from failures).
    pub const PREFIX: &'static str = "Cancelled";

    pub fn message(&self) -> String {
        match self {
            Cancelled::BeforeCreate => "Cancelled before it was created.".into(),
            Cancelled::Stopped { vmid, node } => {
                format!("Cancelled; container {vmid} exists on node {node}, stopped.")
            }
            Cancelled::Unknown { vmid, node } => format!(
                "Cancelled; container {vmid} may exist on node {node}, which could not be \
                 reached to stop it."
            ),
        }
    }

    /// True for a message [`Cancelled::message`] made.
    pub fn is_cancel_message(message: &str) -> bool {
        message.starts_with(Self::PREFIX)
    }
}

impl Lifecycle {
    /// True while a worker has a run of this container to do (creation or update): power,
    /// delete and another update wait until it ends.
    pub fn is_running_a_job(self) -> bool {
        matches!(self, Lifecycle::Creating | Lifecycle::Updating)
    }
}

/// Whether a worker holds a creation, as the progress page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkerState {
    /// No open job (finished, failed, or not queued).
    Idle,
    /// Queued, or its worker stopped: waiting for a worker to take it.
    Waiting,
    /// A live worker is on it.
    Working,
}

/// What a cancel did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CancelReply {
    /// No worker had started it: it was taken off the queue and is cancelled now.
    Cancelled,
    /// Its worker (or whoever takes it over) stops at the next safe point.
    Requested,
}

/// A service the worker found running in a container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInfo {
    /// The systemd unit without `.service`, e.g. `nginx`.
    pub name: String,
    pub port: Option<u16>,
    /// `tcp` (the only protocol discovered today).
    pub protocol: String,
    /// A link for web services, e.g. `http://192.168.1.50:80/`.
    pub url: Option<String>,
}

/// A credential a template's script left in `/etc/infrahaus/credentials/NAME`.
/// Sent to the browser only by the server fn that reveals it, never in events.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub name: String,
    pub value: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        for l in Lifecycle::ALL {
            assert_eq!(l.as_str().parse::<Lifecycle>().unwrap(), *l);
        }
        assert_eq!(serde_json::to_string(&Phase::Sync).unwrap(), "\"sync\"");
        assert!("nope".parse::<Phase>().is_err());
    }

    #[test]
    fn power_buttons_follow_the_state_and_interruptions_ask_first() {
        let shown = |running: bool| -> Vec<&str> {
            [
                PowerAction::Start,
                PowerAction::Shutdown,
                PowerAction::Restart,
                PowerAction::Stop,
            ]
            .into_iter()
            .filter(|a| a.applies_when_running(running))
            .map(PowerAction::label)
            .collect()
        };
        assert_eq!(shown(true), ["Shut down", "Restart", "Stop"]);
        assert_eq!(shown(false), ["Start"]);
        assert!(!PowerAction::Start.needs_confirmation());
        assert!(PowerAction::Restart.needs_confirmation());
        assert_eq!(
            serde_json::to_string(&PowerAction::Restart).unwrap(),
            "\"restart\""
        );
    }

    #[test]
    fn phase_ranges_are_contiguous() {
        let mut end = 0;
        for p in Phase::ALL {
            let (from, to) = p.percent_range();
            assert_eq!(from, end);
            assert!(to > from);
            end = to;
        }
        assert_eq!(end, 100);
    }
}

/// One row of the container list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSummary {
    pub id: ContainerId,
    pub hostname: String,
    pub vmid: u32,
    /// The infrahaus name of the Proxmox node.
    pub node: String,
    pub lifecycle: Lifecycle,
    pub template: Option<String>,
    pub ip_address: Option<String>,
    /// When it was created, `YYYY-MM-DD HH:MM UTC`.
    pub created: String,
}

/// Everything the container page shows but the event history. Holds no secret: credentials
/// are listed by name and opened one at a time with the reveal call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerDetail {
    pub summary: ContainerSummary,
    /// The configuration the wizard produced; `None` when the stored JSON cannot be read.
    pub spec: Option<ContainerSpec>,
    pub error_message: Option<String>,
    pub services: Vec<ServiceInfo>,
    pub credentials: Vec<String>,
}

/// What a power button asks Proxmox to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerAction {
    Start,
    /// A clean shutdown from inside the container, given a time limit.
    Shutdown,
    /// An immediate stop.
    Stop,
    /// A clean shutdown (stopped if it takes too long), then a start.
    Restart,
}

impl PowerAction {
    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            PowerAction::Start => "Start",
            PowerAction::Shutdown => "Shut down",
            PowerAction::Stop => "Stop",
            PowerAction::Restart => "Restart",
        }
    }

    /// Whether the button asks for a confirmation first (it interrupts what runs inside).
    pub fn needs_confirmation(self) -> bool {
        !matches!(self, PowerAction::Start)
    }

    /// Whether the action makes sense for a container that runs (`true`) or is stopped.
    pub fn applies_when_running(self, running: bool) -> bool {
        match self {
            PowerAction::Start => !running,
            PowerAction::Shutdown | PowerAction::Stop | PowerAction::Restart => running,
        }
    }
}
