//! The audit record: who revealed a credential, ran a power action or deleted a container, and
//! when. Written by the backend's services, shown as "Activity" on the container page.

use crate::container::PowerAction;
use crate::text_enum;
use serde::{Deserialize, Serialize};

text_enum!(
    /// What was done to a container.
    AuditAction {
        /// A stored credential was opened; the detail is its name.
        CredentialRevealed => "credential_revealed",
        /// A power action ran on the node; the detail is the action (`start`, `stop`, …).
        Power => "power",
        /// The container was deleted from its node and from infrahaus.
        Deleted => "deleted",
    }
);

/// One line of a container's activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// When, `YYYY-MM-DD HH:MM:SS UTC`.
    pub at: String,
    /// Who, by the user name they had then.
    pub username: String,
    pub action: AuditAction,
    pub detail: String,
    /// The container, `hostname (VMID n)`, as it was then.
    pub container: String,
}

impl ActivityEntry {
    /// What was done, in words: "revealed the credential db-password", "ran Shut down".
    pub fn description(&self) -> String {
        match self.action {
            AuditAction::CredentialRevealed => {
                format!("revealed the credential {}", self.detail)
            }
            AuditAction::Power => format!("ran {}", self.detail),
            AuditAction::Deleted => "deleted the container".to_owned(),
        }
    }
}

/// How a power action is recorded: its button's text ("Start", "Shut down", …).
pub fn power_detail(action: PowerAction) -> String {
    action.label().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_as_sentences() {
        let entry = |action, detail: &str| ActivityEntry {
            at: "2026-12-04 20:00:00 UTC".into(),
            username: "alice".into(),
            action,
            detail: detail.into(),
            container: "web-1 (VMID 120)".into(),
        };
        assert_eq!(
            entry(AuditAction::CredentialRevealed, "db-password").description(),
            "revealed the credential db-password"
        );
        let power = power_detail(PowerAction::Shutdown);
        assert_eq!(
            entry(AuditAction::Power, &power).description(),
            "ran Shut down"
        );
        assert_eq!(
            entry(AuditAction::Deleted, "").description(),
            "deleted the container"
        );
    }
}
