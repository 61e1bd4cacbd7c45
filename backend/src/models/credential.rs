//! Credentials read from a container's `/etc/infrahaus/credentials/`, sealed at rest
//! (`Purpose::ContainerCredential`). Names are listed freely; values are opened one call at a time.

use crate::crypto::{CryptoError, Purpose, SecretBox};
use crate::schema::container_credentials;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ContainerId;
use domain::container::Credential;

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = container_credentials)]
pub struct CredentialRow {
    pub id: uuid::Uuid,
    pub container_id: ContainerId,
    pub name: String,
    pub value_enc: Vec<u8>,
}

impl CredentialRow {
    /// Replaces the container's credentials, sealing each value.
    pub async fn replace_all(
        conn: &mut AsyncPgConnection,
        secrets: &SecretBox,
        container_id: ContainerId,
        credentials: &[Credential],
    ) -> QueryResult<()> {
        let rows: Vec<CredentialRow> = credentials
            .iter()
            .map(|c| CredentialRow {
                id: uuid::Uuid::new_v4(),
                container_id,
                name: c.name.clone(),
                value_enc: secrets.seal_str(Purpose::ContainerCredential, &c.value),
            })
            .collect();
        diesel::delete(
            container_credentials::table
                .filter(container_credentials::container_id.eq(container_id)),
        )
        .execute(conn)
        .await?;
        diesel::insert_into(container_credentials::table)
            .values(&rows)
            .execute(conn)
            .await
            .map(drop)
    }

    /// The names of the container's credentials, sorted.
    pub async fn names(
        conn: &mut AsyncPgConnection,
        container_id: ContainerId,
    ) -> QueryResult<Vec<String>> {
        container_credentials::table
            .filter(container_credentials::container_id.eq(container_id))
            .order(container_credentials::name)
            .select(container_credentials::name)
            .load(conn)
            .await
    }

    /// One credential, opened; `Ok(None)` when there is no such name.
    pub async fn reveal(
        conn: &mut AsyncPgConnection,
        secrets: &SecretBox,
        container_id: ContainerId,
        name: &str,
    ) -> Result<Option<Credential>, RevealError> {
        let row: Option<CredentialRow> = container_credentials::table
            .filter(container_credentials::container_id.eq(container_id))
            .filter(container_credentials::name.eq(name))
            .select(CredentialRow::as_select())
            .first(conn)
            .await
            .optional()?;
        row.map(|r| {
            Ok(Credential {
                name: r.name,
                value: secrets.open_str(Purpose::ContainerCredential, &r.value_enc)?,
            })
        })
        .transpose()
    }
}

/// Why a credential could not be revealed.
#[derive(Debug, thiserror::Error)]
pub enum RevealError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}
