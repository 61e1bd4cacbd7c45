//! Who acts, what they may do, and the record of what they did to containers.
//!
//! Services that reveal a credential, power a container or delete one take the [`Actor`] they
//! act for and write an `audit_events` row ([`crate::models::audit`]) with the user's name and
//! the time. A reveal is recorded before the value is opened, and is refused when the record
//! cannot be written; a power action or a deletion is recorded once the node did it, and a
//! record that cannot be written then is logged (the action happened all the same).

use crate::db::{DbConn, DbPool};
use crate::models::ContainerRow;
use crate::models::audit::{AuditRow, NewAuditEvent};
use crate::services::ServiceError;
use domain::UserId;
use domain::audit::AuditAction;
use domain::user::Role;

/// The account a service call is made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// `None` for work done without an account (a script or a test); recorded under `username`.
    pub user_id: Option<UserId>,
    pub username: String,
    pub role: Role,
}

impl Actor {
    pub fn user(user_id: UserId, username: impl Into<String>, role: Role) -> Actor {
        Actor {
            user_id: Some(user_id),
            username: username.into(),
            role,
        }
    }

    /// Work done without an account, with an admin's rights, recorded under `name`.
    pub fn without_account(name: impl Into<String>) -> Actor {
        Actor {
            user_id: None,
            username: name.into(),
            role: Role::Admin,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// [`ServiceError::Forbidden`] unless the actor is an admin; `what` ends the sentence
    /// "Only admins can …".
    pub fn require_admin(&self, what: &str) -> Result<(), ServiceError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!("Only admins can {what}.")))
        }
    }

    /// Whether the actor may open the credentials of a container `created_by` made: admins
    /// open every container's, operators those of containers they created themselves (not
    /// those of a container another user, a removed account or the command line created).
    pub fn may_reveal_credentials_of(&self, created_by: Option<UserId>) -> bool {
        self.is_admin() || (self.user_id.is_some() && self.user_id == created_by)
    }
}

/// The label a container is recorded under: `hostname (VMID n)`.
fn container_label(row: &ContainerRow) -> String {
    format!("{} (VMID {})", row.hostname, row.vmid.get())
}

/// Writes one audit row for `row`.
pub async fn record(
    conn: &mut DbConn,
    actor: &Actor,
    row: &ContainerRow,
    action: AuditAction,
    detail: &str,
) -> diesel::QueryResult<()> {
    let event = NewAuditEvent {
        user_id: actor.user_id,
        username: actor.username.clone(),
        action,
        detail: detail.to_owned(),
        container_id: row.id,
        container: container_label(row),
    };
    AuditRow::insert(conn, &event).await
}

/// Records an action that already happened; a failure is logged, not returned.
pub async fn record_done(
    db: &DbPool,
    actor: &Actor,
    row: &ContainerRow,
    action: AuditAction,
    detail: &str,
) {
    let written = async {
        let mut conn = crate::services::conn(db).await?;
        record(&mut conn, actor, row, action, detail).await?;
        Ok::<(), ServiceError>(())
    }
    .await;
    if let Err(e) = written {
        tracing::error!(
            container.id = %row.id, user = %actor.username, action = %action, error = %e,
            "could not write the audit record"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_open_only_their_own_containers_credentials() {
        let alice = UserId::new_random();
        let operator = Actor::user(alice, "alice", Role::Operator);
        assert!(operator.may_reveal_credentials_of(Some(alice)));
        assert!(!operator.may_reveal_credentials_of(Some(UserId::new_random())));
        assert!(!operator.may_reveal_credentials_of(None));
        let admin = Actor::user(UserId::new_random(), "root", Role::Admin);
        assert!(admin.may_reveal_credentials_of(Some(alice)));
        assert!(admin.may_reveal_credentials_of(None));
        assert!(matches!(
            operator.require_admin("manage nodes"),
            Err(ServiceError::Forbidden(m)) if m == "Only admins can manage nodes."
        ));
        assert!(admin.require_admin("manage nodes").is_ok());
    }
}
