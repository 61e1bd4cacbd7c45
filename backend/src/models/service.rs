//! Services the worker discovered in a container (`systemctl` + `ss`), with ports and web URLs.

use crate::schema::container_services;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ContainerId;
use domain::container::ServiceInfo;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = container_services)]
pub struct ServiceRow {
    pub id: uuid::Uuid,
    pub container_id: ContainerId,
    pub name: String,
    pub port: Option<i32>,
    pub protocol: String,
    pub url: Option<String>,
}

impl ServiceRow {
    pub fn info(&self) -> ServiceInfo {
        ServiceInfo {
            name: self.name.clone(),
            port: self.port.and_then(|p| u16::try_from(p).ok()),
            protocol: self.protocol.clone(),
            url: self.url.clone(),
        }
    }

    /// Replaces the container's services with `services` (a rerun finds the same ones again).
    pub async fn replace_all(
        conn: &mut AsyncPgConnection,
        container_id: ContainerId,
        services: &[ServiceInfo],
    ) -> QueryResult<()> {
        let rows: Vec<ServiceRow> = services
            .iter()
            .map(|s| ServiceRow {
                id: uuid::Uuid::new_v4(),
                container_id,
                name: s.name.clone(),
                port: s.port.map(i32::from),
                protocol: s.protocol.clone(),
                url: s.url.clone(),
            })
            .collect();
        diesel::delete(
            container_services::table.filter(container_services::container_id.eq(container_id)),
        )
        .execute(conn)
        .await?;
        diesel::insert_into(container_services::table)
            .values(&rows)
            .execute(conn)
            .await
            .map(drop)
    }

    /// The container's services by name, then port.
    pub async fn list(
        conn: &mut AsyncPgConnection,
        container_id: ContainerId,
    ) -> QueryResult<Vec<ServiceInfo>> {
        let rows: Vec<ServiceRow> = container_services::table
            .filter(container_services::container_id.eq(container_id))
            .order((container_services::name, container_services::port))
            .select(ServiceRow::as_select())
            .load(conn)
            .await?;
        Ok(rows.iter().map(ServiceRow::info).collect())
    }
}
