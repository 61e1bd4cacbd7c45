//! Revealing one of a container's stored credentials. Admins may open every container's;
//! operators only those of containers they created ([`Actor::may_reveal_credentials_of`]).
//! Every reveal is in the audit record before its value is opened; the value itself is never
//! logged or recorded.

use super::ServiceError;
use crate::audit::{self, Actor};
use crate::crypto::SecretBox;
use crate::db::DbPool;
use crate::models::ContainerRow;
use crate::models::credential::{CredentialRow, RevealError};
use domain::ContainerId;
use domain::audit::AuditAction;
use domain::container::Credential;

/// Opens the credential `name` of container `id` for `actor`.
pub async fn reveal(
    db: &DbPool,
    secrets: &SecretBox,
    actor: &Actor,
    id: ContainerId,
    name: &str,
) -> Result<Credential, ServiceError> {
    let mut conn = super::conn(db).await?;
    let row = ContainerRow::find(&mut conn, id).await?;
    if !actor.may_reveal_credentials_of(row.created_by) {
        tracing::warn!(user = %actor.username, container.id = %id, credential = %name, "credential reveal refused");
        return Err(ServiceError::Forbidden(
            "Only admins and the user who created this container can open its credentials.".into(),
        ));
    }
    if !CredentialRow::names(&mut conn, id)
        .await?
        .iter()
        .any(|n| n == name)
    {
        return Err(ServiceError::NotFound);
    }
    audit::record(
        &mut conn,
        actor,
        &row,
        AuditAction::CredentialRevealed,
        name,
    )
    .await?;
    match CredentialRow::reveal(&mut conn, secrets, id, name).await {
        Ok(Some(credential)) => {
            tracing::info!(user = %actor.username, container.id = %id, credential = %name, "credential revealed");
            Ok(credential)
        }
        Ok(None) => Err(ServiceError::NotFound),
        Err(RevealError::Db(e)) => Err(e.into()),
        Err(RevealError::Crypto(e)) => Err(e.into()),
    }
}
