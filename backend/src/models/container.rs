//! Containers infrahaus creates. The wizard's configuration is kept as JSON; the root password
//! is kept sealed only until the create call has used it; the container's own SSH private key
//! is kept sealed for as long as the row exists.

use crate::schema::containers;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::container::Lifecycle;
use domain::values::{Hostname, Vmid};
use domain::{ContainerId, NodeId, TemplateId, UserId};

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = containers)]
pub struct ContainerRow {
    pub id: ContainerId,
    pub node_id: NodeId,
    pub template_id: Option<TemplateId>,
    pub vmid: Vmid,
    pub hostname: Hostname,
    pub lifecycle: Lifecycle,
    pub config: serde_json::Value,
    pub root_password_enc: Option<Vec<u8>>,
    pub checkpoint: serde_json::Value,
    pub ip_address: Option<String>,
    pub ssh_host_key: Option<String>,
    pub error_message: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The container's own SSH private key, sealed (`Purpose::ContainerSshKey`); `None` for
    /// containers created before per-container keys.
    pub ssh_key_enc: Option<Vec<u8>>,
}

impl std::fmt::Debug for ContainerRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerRow")
            .field("id", &self.id)
            .field("node_id", &self.node_id)
            .field("vmid", &self.vmid)
            .field("hostname", &self.hostname)
            .field("lifecycle", &self.lifecycle)
            .finish_non_exhaustive()
    }
}

/// A container about to be queued for creation.
#[derive(Insertable)]
#[diesel(table_name = containers)]
pub struct NewContainer {
    pub id: ContainerId,
    pub node_id: NodeId,
    pub template_id: Option<TemplateId>,
    pub vmid: Vmid,
    pub hostname: Hostname,
    pub lifecycle: Lifecycle,
    pub config: serde_json::Value,
    pub root_password_enc: Option<Vec<u8>>,
    pub created_by: Option<UserId>,
}

impl ContainerRow {
    pub async fn insert(
        conn: &mut AsyncPgConnection,
        new: &NewContainer,
    ) -> QueryResult<ContainerRow> {
        diesel::insert_into(containers::table)
            .values(new)
            .returning(ContainerRow::as_returning())
            .get_result(conn)
            .await
    }

    /// The configuration the wizard produced: the one place the stored `config` JSON is read.
    pub fn spec(&self) -> Result<domain::spec::ContainerSpec, serde_json::Error> {
        serde_json::from_value(self.config.clone())
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: ContainerId) -> QueryResult<ContainerRow> {
        containers::table
            .find(id)
            .select(ContainerRow::as_select())
            .first(conn)
            .await
    }

    /// Every container, newest first.
    pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ContainerRow>> {
        containers::table
            .order(containers::created_at.desc())
            .select(ContainerRow::as_select())
            .load(conn)
            .await
    }

    /// Sets the lifecycle and the error message (cleared unless `Error`).
    pub async fn set_lifecycle(
        conn: &mut AsyncPgConnection,
        id: ContainerId,
        lifecycle: Lifecycle,
        error_message: Option<&str>,
    ) -> QueryResult<()> {
        diesel::update(containers::table.find(id))
            .set((
                containers::lifecycle.eq(lifecycle),
                containers::error_message.eq(error_message),
                containers::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
            .map(drop)
    }

    /// Moves a failed container back to `to` (`creating`, or `updating` when an update run
    /// failed) and clears its error; false (nothing changed) unless it was in `error`, so two
    /// retries at once queue one job.
    pub async fn retry_from_error(
        conn: &mut AsyncPgConnection,
        id: ContainerId,
        to: Lifecycle,
    ) -> QueryResult<bool> {
        let changed = diesel::update(
            containers::table
                .find(id)
                .filter(containers::lifecycle.eq(Lifecycle::Error)),
        )
        .set((
            containers::lifecycle.eq(to),
            containers::error_message.eq(None::<String>),
            containers::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
        Ok(changed == 1)
    }

    /// Records the last finished pipeline step.
    pub async fn set_checkpoint(
        conn: &mut AsyncPgConnection,
        id: ContainerId,
        checkpoint: &serde_json::Value,
    ) -> QueryResult<()> {
        diesel::update(containers::table.find(id))
            .set((
                containers::checkpoint.eq(checkpoint),
                containers::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
            .map(drop)
    }

    /// Forgets the root password once the container exists.
    pub async fn erase_root_password(
        conn: &mut AsyncPgConnection,
        id: ContainerId,
    ) -> QueryResult<()> {
        diesel::update(containers::table.find(id))
            .set(containers::root_password_enc.eq(None::<Vec<u8>>))
            .execute(conn)
            .await
            .map(drop)
    }

    /// Records the container's IPv4 address (`None` while unknown).
    pub async fn set_ip_address(
        conn: &mut AsyncPgConnection,
        id: ContainerId,
        ip_address: Option<&str>,
    ) -> QueryResult<()> {
        diesel::update(containers::table.find(id))
            .set((
                containers::ip_address.eq(ip_address),
                containers::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
            .map(drop)
    }

    /// Pins the container's SSH host key the first time the worker sees it; returns the pinned
    /// key (the one just stored, or the one stored before).
    pub async fn pin_ssh_host_key(
        conn: &mut AsyncPgConnection,
        id: ContainerId,
        key: &str,
    ) -> QueryResult<String> {
        diesel::update(
            containers::table
                .find(id)
                .filter(containers::ssh_host_key.is_null()),
        )
        .set(containers::ssh_host_key.eq(key))
        .execute(conn)
        .await?;
        containers::table
            .find(id)
            .select(containers::ssh_host_key.assume_not_null())
            .first(conn)
            .await
    }

    /// Stores the container's sealed SSH key unless one is stored already; returns the stored
    /// one, so that retries and a worker taking over all use the first key.
    pub async fn store_ssh_key_once(
        conn: &mut AsyncPgConnection,
        id: ContainerId,
        sealed: &[u8],
    ) -> QueryResult<Vec<u8>> {
        diesel::update(
            containers::table
                .find(id)
                .filter(containers::ssh_key_enc.is_null()),
        )
        .set(containers::ssh_key_enc.eq(sealed))
        .execute(conn)
        .await?;
        containers::table
            .find(id)
            .select(containers::ssh_key_enc.assume_not_null())
            .first(conn)
            .await
    }

    /// Deletes the row (events, services and credentials go with it).
    pub async fn delete(conn: &mut AsyncPgConnection, id: ContainerId) -> QueryResult<bool> {
        Ok(diesel::delete(containers::table.find(id))
            .execute(conn)
            .await?
            == 1)
    }
}
