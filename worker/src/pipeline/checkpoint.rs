//! [`Checkpoint`]: how far a container's pipeline got, kept in the row's `checkpoint` column so
//! that a job taken over by another worker, or retried, resumes after it.
//!
//! Stored as JSON, e.g. `{"done":"deploy","config_synced":true,"packages_done":true,"scripts_done":1}`.

use domain::container::Phase;
use serde::{Deserialize, Serialize};

/// The last finished phase, and inside Sync the finished steps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Checkpoint {
    /// The last phase that finished; `None` before the first.
    pub done: Option<Phase>,
    /// Sync: config-sync ran.
    pub config_synced: bool,
    /// Sync: every package was installed.
    pub packages_done: bool,
    /// Sync: how many of the enabled scripts finished, in order.
    pub scripts_done: u32,
    /// The delivery (attempt) that last moved it forward; 0 before any. A job is given up only
    /// after several attempts in a row that moved nothing (see [`crate::runner::JobRun::stalled`]).
    pub advanced_in: u64,
}

impl Checkpoint {
    /// The stored checkpoint; an unreadable one counts as none (the pipeline then starts over,
    /// which the create phase makes safe).
    pub fn from_json(value: &serde_json::Value) -> Self {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Where a resumed run starts, for the progress log: `Deploy`, `Sync (script 3)`.
    pub fn resume_point(&self) -> String {
        let next = Phase::ALL
            .iter()
            .copied()
            .find(|p| !self.is_done(*p))
            .unwrap_or(Phase::Finalize);
        if next == Phase::Sync && self.scripts_done > 0 {
            format!("{} (script {})", next.label(), self.scripts_done + 1)
        } else {
            next.label().to_owned()
        }
    }

    /// Whether `phase` finished.
    pub fn is_done(&self, phase: Phase) -> bool {
        self.done.is_some_and(|done| index(done) >= index(phase))
    }
}

fn index(phase: Phase) -> usize {
    Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        let cp = Checkpoint {
            done: Some(Phase::Deploy),
            config_synced: true,
            packages_done: false,
            scripts_done: 2,
            advanced_in: 3,
        };
        assert_eq!(
            cp.to_json(),
            serde_json::json!({"done": "deploy", "config_synced": true, "packages_done": false, "scripts_done": 2, "advanced_in": 3})
        );
        assert_eq!(Checkpoint::from_json(&cp.to_json()), cp);
        assert!(cp.is_done(Phase::Create) && cp.is_done(Phase::Deploy));
        assert!(!cp.is_done(Phase::Sync));
        let empty = Checkpoint::from_json(&serde_json::json!({}));
        assert_eq!(empty, Checkpoint::default());
        assert!(!empty.is_done(Phase::Create));
        assert_eq!(Checkpoint::from_json(&serde_json::json!("garbage")), empty);
        assert_eq!(empty.resume_point(), "Create");
        assert_eq!(cp.resume_point(), "Sync (script 3)");
    }
}
