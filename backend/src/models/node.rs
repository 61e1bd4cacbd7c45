//! Registered Proxmox VE nodes. The token secret is stored sealed (see `crypto`).

use crate::schema::pve_nodes;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::NodeId;
use domain::node::{NodeInput, NodeSummary, TlsTrust};

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = pve_nodes)]
pub struct NodeRow {
    pub id: NodeId,
    pub name: String,
    pub host: String,
    pub port: i32,
    pub token_id: String,
    pub token_secret_enc: Vec<u8>,
    pub tls_fingerprint: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// SSH port of the node itself, for the `pct` fallback.
    pub ssh_port: i32,
    /// The node's SSH host key, pinned on first use (`ssh-ed25519 AAAA…`).
    pub ssh_host_key: Option<String>,
}

impl std::fmt::Debug for NodeRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeRow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("token_id", &self.token_id)
            .field("tls_fingerprint", &self.tls_fingerprint)
            .finish_non_exhaustive()
    }
}

/// The columns a user sets; `token_secret_enc` is `None` on an edit that keeps the secret.
#[derive(AsChangeset)]
#[diesel(table_name = pve_nodes)]
pub struct NewNode {
    pub name: String,
    pub host: String,
    pub port: i32,
    pub token_id: String,
    pub token_secret_enc: Option<Vec<u8>>,
    #[diesel(treat_none_as_null = true)]
    pub tls_fingerprint: Option<String>,
    pub ssh_port: i32,
}

impl NewNode {
    /// The columns for a validated node form, the token secret sealed (`None` keeps the stored one).
    pub fn from_input(input: NodeInput, secrets: &crate::crypto::SecretBox) -> NewNode {
        NewNode {
            name: input.name,
            host: input.host,
            port: i32::from(input.port),
            ssh_port: i32::from(input.ssh_port),
            token_id: input.token_id,
            token_secret_enc: input
                .token_secret
                .as_deref()
                .map(|secret| secrets.seal_str(crate::crypto::Purpose::NodeTokenSecret, secret)),
            tls_fingerprint: match input.tls {
                TlsTrust::SystemCa => None,
                TlsTrust::Fingerprint(fp) => Some(fp),
            },
        }
    }
}

impl NodeRow {
    pub fn tls(&self) -> TlsTrust {
        match &self.tls_fingerprint {
            Some(fp) => TlsTrust::Fingerprint(fp.clone()),
            None => TlsTrust::SystemCa,
        }
    }

    pub fn summary(&self) -> NodeSummary {
        NodeSummary {
            id: self.id,
            name: self.name.clone(),
            host: self.host.clone(),
            port: u16::try_from(self.port).unwrap_or(8006),
            ssh_port: u16::try_from(self.ssh_port).unwrap_or(22),
            token_id: self.token_id.clone(),
            tls: self.tls(),
        }
    }

    pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<NodeRow>> {
        pve_nodes::table
            .order(pve_nodes::name.asc())
            .select(NodeRow::as_select())
            .load(conn)
            .await
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: NodeId) -> QueryResult<NodeRow> {
        pve_nodes::table
            .find(id)
            .select(NodeRow::as_select())
            .first(conn)
            .await
    }

    pub async fn find_by_name(
        conn: &mut AsyncPgConnection,
        name: &str,
    ) -> QueryResult<Option<NodeRow>> {
        pve_nodes::table
            .filter(pve_nodes::name.eq(name))
            .select(NodeRow::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// Inserts a node; `new.token_secret_enc` must be set.
    pub async fn insert(conn: &mut AsyncPgConnection, new: &NewNode) -> QueryResult<NodeRow> {
        let secret = new
            .token_secret_enc
            .clone()
            .ok_or(diesel::result::Error::NotFound)?;
        diesel::insert_into(pve_nodes::table)
            .values((
                pve_nodes::id.eq(NodeId::new_random()),
                pve_nodes::name.eq(&new.name),
                pve_nodes::host.eq(&new.host),
                pve_nodes::port.eq(new.port),
                pve_nodes::token_id.eq(&new.token_id),
                pve_nodes::token_secret_enc.eq(secret),
                pve_nodes::tls_fingerprint.eq(&new.tls_fingerprint),
                pve_nodes::ssh_port.eq(new.ssh_port),
            ))
            .returning(NodeRow::as_returning())
            .get_result(conn)
            .await
    }

    pub async fn update(
        conn: &mut AsyncPgConnection,
        id: NodeId,
        new: &NewNode,
    ) -> QueryResult<NodeRow> {
        diesel::update(pve_nodes::table.find(id))
            .set((new, pve_nodes::updated_at.eq(diesel::dsl::now)))
            .returning(NodeRow::as_returning())
            .get_result(conn)
            .await
    }

    /// Pins the node's SSH host key the first time the worker sees it; returns the pinned key
    /// (the one just stored, or the one stored before).
    pub async fn pin_ssh_host_key(
        conn: &mut AsyncPgConnection,
        id: NodeId,
        key: &str,
    ) -> QueryResult<String> {
        diesel::update(
            pve_nodes::table
                .find(id)
                .filter(pve_nodes::ssh_host_key.is_null()),
        )
        .set(pve_nodes::ssh_host_key.eq(key))
        .execute(conn)
        .await?;
        pve_nodes::table
            .find(id)
            .select(pve_nodes::ssh_host_key.assume_not_null())
            .first(conn)
            .await
    }

    /// Deletes a node; returns false when it did not exist.
    pub async fn delete(conn: &mut AsyncPgConnection, id: NodeId) -> QueryResult<bool> {
        Ok(diesel::delete(pve_nodes::table.find(id))
            .execute(conn)
            .await?
            == 1)
    }
}
