//! Injected delays and failures, settable at start and at runtime (`POST /_sim/faults`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Delays and one-shot failures. Task types are PVE's: `vzcreate`, `vzstart`, `vzstop`,
/// `vzshutdown`, `vzreboot`, `vzdestroy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// How long a task of each type runs before it finishes (milliseconds).
    pub task_delay_ms: BTreeMap<String, u64>,
    /// How long after a start a DHCP interface gets its IPv4 lease (milliseconds).
    pub dhcp_lease_ms: u64,
    /// One-shot: the next task of this type ends with this error (empty = a default text).
    /// For `vzcreate` the text is wrapped as PVE does: `unable to create CT <vmid> - <text>`.
    pub fail_next: BTreeMap<String, String>,
    /// One-shot: the next task of this type succeeds with `WARNINGS: n`.
    pub warn_next: BTreeMap<String, u32>,
}

impl Faults {
    /// Short delays for tests: tasks take 50-200 ms, DHCP leases 300 ms.
    pub fn fast() -> Self {
        Self {
            task_delay_ms: [
                ("vzcreate", 200),
                ("vzstart", 100),
                ("vzstop", 50),
                ("vzshutdown", 100),
                ("vzreboot", 150),
                ("vzdestroy", 50),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            dhcp_lease_ms: 300,
            ..Self::default()
        }
    }

    /// Delays in the range a real node shows, for the CLI.
    pub fn realistic() -> Self {
        Self {
            task_delay_ms: [
                ("vzcreate", 3000),
                ("vzstart", 1500),
                ("vzstop", 500),
                ("vzshutdown", 2000),
                ("vzreboot", 3500),
                ("vzdestroy", 800),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            dhcp_lease_ms: 2000,
            ..Self::default()
        }
    }

    pub fn task_delay(&self, task_type: &str) -> Duration {
        Duration::from_millis(self.task_delay_ms.get(task_type).copied().unwrap_or(0))
    }

    /// Merges a runtime patch; `clear` empties the one-shot maps first.
    pub fn apply(&mut self, patch: FaultsPatch) {
        if patch.clear {
            self.fail_next.clear();
            self.warn_next.clear();
        }
        self.task_delay_ms.extend(patch.task_delay_ms);
        if let Some(ms) = patch.dhcp_lease_ms {
            self.dhcp_lease_ms = ms;
        }
        self.fail_next.extend(patch.fail_next);
        self.warn_next.extend(patch.warn_next);
    }

    /// Takes the one-shot failure for this task type, if any.
    pub(crate) fn take_failure(&mut self, task_type: &str) -> Option<String> {
        self.fail_next.remove(task_type)
    }

    /// Takes the one-shot warning count for this task type, if any.
    pub(crate) fn take_warnings(&mut self, task_type: &str) -> Option<u32> {
        self.warn_next.remove(task_type).filter(|n| *n > 0)
    }
}

/// A partial update of [`Faults`] (the body of `POST /_sim/faults`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultsPatch {
    pub task_delay_ms: BTreeMap<String, u64>,
    pub dhcp_lease_ms: Option<u64>,
    pub fail_next: BTreeMap<String, String>,
    pub warn_next: BTreeMap<String, u32>,
    /// Drop pending one-shot failures and warnings before applying the rest.
    pub clear: bool,
}
