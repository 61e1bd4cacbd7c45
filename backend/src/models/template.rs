//! Templates with their scripts, files, packages and bucket links, saved and loaded whole.

use crate::models::bucket;
use crate::schema::{
    template_buckets, template_files, template_packages, template_scripts, templates,
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::template::{
    FilePolicy, Package, PackageManager, Script, Template, TemplateDetail, TemplateFile,
    TemplateSource, TemplateSummary,
};
use domain::{BucketId, TemplateId};
use std::collections::HashMap;

#[derive(Queryable, Selectable)]
#[diesel(table_name = templates)]
struct TemplateRow {
    id: TemplateId,
    name: String,
    description: String,
    source: TemplateSource,
    version: String,
    os_template: String,
    cores: i32,
    memory_mib: i32,
    swap_mib: i32,
    disk_gib: i32,
    storage: String,
    bridge: String,
    unprivileged: bool,
    nesting: bool,
    keyctl: bool,
    fuse: bool,
    tags: Vec<String>,
}

fn to_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

async fn write_children(
    conn: &mut AsyncPgConnection,
    id: TemplateId,
    t: &Template,
) -> QueryResult<()> {
    let scripts: Vec<_> = t
        .scripts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                template_scripts::id.eq(uuid::Uuid::new_v4()),
                template_scripts::template_id.eq(id),
                template_scripts::position.eq(i as i32),
                template_scripts::name.eq(&s.name),
                template_scripts::description.eq(&s.description),
                template_scripts::content.eq(&s.content),
                template_scripts::enabled.eq(s.enabled),
            )
        })
        .collect();
    diesel::insert_into(template_scripts::table)
        .values(scripts)
        .execute(conn)
        .await?;
    let files: Vec<_> = t
        .files
        .iter()
        .map(|f| {
            (
                template_files::id.eq(uuid::Uuid::new_v4()),
                template_files::template_id.eq(id),
                template_files::name.eq(&f.name),
                template_files::target_dir.eq(&f.target_dir),
                template_files::policy.eq(f.policy.as_str()),
                template_files::content.eq(&f.content),
            )
        })
        .collect();
    diesel::insert_into(template_files::table)
        .values(files)
        .execute(conn)
        .await?;
    let packages: Vec<_> = t
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                template_packages::id.eq(uuid::Uuid::new_v4()),
                template_packages::template_id.eq(id),
                template_packages::position.eq(i as i32),
                template_packages::name.eq(&p.name),
                template_packages::manager.eq(p.manager.as_str()),
                template_packages::version.eq(&p.version),
            )
        })
        .collect();
    diesel::insert_into(template_packages::table)
        .values(packages)
        .execute(conn)
        .await?;
    let links: Vec<_> = t
        .bucket_ids
        .iter()
        .map(|b| {
            (
                template_buckets::template_id.eq(id),
                template_buckets::bucket_id.eq(*b),
            )
        })
        .collect();
    diesel::insert_into(template_buckets::table)
        .values(links)
        .execute(conn)
        .await?;
    Ok(())
}

async fn delete_children(conn: &mut AsyncPgConnection, id: TemplateId) -> QueryResult<()> {
    diesel::delete(template_scripts::table.filter(template_scripts::template_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(template_files::table.filter(template_files::template_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(template_packages::table.filter(template_packages::template_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(template_buckets::table.filter(template_buckets::template_id.eq(id)))
        .execute(conn)
        .await?;
    Ok(())
}

macro_rules! template_columns {
    ($t:expr) => {
        (
            templates::name.eq(&$t.name),
            templates::description.eq(&$t.description),
            templates::source.eq($t.source.as_str()),
            templates::version.eq(&$t.version),
            templates::os_template.eq(&$t.os_template),
            templates::cores.eq(to_i32($t.cores)),
            templates::memory_mib.eq(to_i32($t.memory_mib)),
            templates::swap_mib.eq(to_i32($t.swap_mib)),
            templates::disk_gib.eq(to_i32($t.disk_gib)),
            templates::storage.eq(&$t.storage),
            templates::bridge.eq(&$t.bridge),
            templates::unprivileged.eq($t.unprivileged),
            templates::nesting.eq($t.nesting),
            templates::keyctl.eq($t.keyctl),
            templates::fuse.eq($t.fuse),
            templates::tags.eq(&$t.tags),
        )
    };
}

/// Inserts a template and everything it carries, in one transaction.
pub async fn insert(conn: &mut AsyncPgConnection, t: &Template) -> QueryResult<TemplateId> {
    let t = t.clone();
    conn.transaction(async move |conn| {
        let id = TemplateId::new_random();
        diesel::insert_into(templates::table)
            .values((templates::id.eq(id), template_columns!(t)))
            .execute(conn)
            .await?;
        write_children(conn, id, &t).await?;
        Ok(id)
    })
    .await
}

/// Replaces a template and everything it carries, in one transaction; false if it does not exist.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: TemplateId,
    t: &Template,
) -> QueryResult<bool> {
    let t = t.clone();
    conn.transaction(async move |conn| {
        let n = diesel::update(templates::table.find(id))
            .set((
                template_columns!(t),
                templates::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        if n == 0 {
            return Ok(false);
        }
        delete_children(conn, id).await?;
        write_children(conn, id, &t).await?;
        Ok(true)
    })
    .await
}

/// Deletes a template; false if it did not exist.
pub async fn delete(conn: &mut AsyncPgConnection, id: TemplateId) -> QueryResult<bool> {
    Ok(diesel::delete(templates::table.find(id))
        .execute(conn)
        .await?
        == 1)
}

/// The id of the template with this name.
pub async fn find_id_by_name(
    conn: &mut AsyncPgConnection,
    name: &str,
) -> QueryResult<Option<TemplateId>> {
    templates::table
        .filter(templates::name.eq(name))
        .select(templates::id)
        .first(conn)
        .await
        .optional()
}

/// A template with everything it carries.
pub async fn load(conn: &mut AsyncPgConnection, id: TemplateId) -> QueryResult<TemplateDetail> {
    let row: TemplateRow = templates::table
        .find(id)
        .select(TemplateRow::as_select())
        .first(conn)
        .await?;
    let scripts = template_scripts::table
        .filter(template_scripts::template_id.eq(id))
        .order(template_scripts::position)
        .select((
            template_scripts::name,
            template_scripts::description,
            template_scripts::content,
            template_scripts::enabled,
        ))
        .load::<(String, String, String, bool)>(conn)
        .await?
        .into_iter()
        .map(|(name, description, content, enabled)| Script {
            name,
            description,
            content,
            enabled,
        })
        .collect();
    let files = template_files::table
        .filter(template_files::template_id.eq(id))
        .order((template_files::target_dir, template_files::name))
        .select((
            template_files::name,
            template_files::target_dir,
            template_files::policy,
            template_files::content,
        ))
        .load::<(String, String, String, String)>(conn)
        .await?
        .into_iter()
        .map(|(name, target_dir, policy, content)| TemplateFile {
            name,
            target_dir,
            policy: policy.parse().unwrap_or(FilePolicy::Replace),
            content,
        })
        .collect();
    let packages = template_packages::table
        .filter(template_packages::template_id.eq(id))
        .order(template_packages::position)
        .select((
            template_packages::name,
            template_packages::manager,
            template_packages::version,
        ))
        .load::<(String, String, Option<String>)>(conn)
        .await?
        .into_iter()
        .map(|(name, manager, version)| Package {
            name,
            manager: manager.parse().unwrap_or(PackageManager::Custom),
            version,
        })
        .collect();
    let bucket_ids: Vec<BucketId> = template_buckets::table
        .filter(template_buckets::template_id.eq(id))
        .order(template_buckets::bucket_id)
        .select(template_buckets::bucket_id)
        .load(conn)
        .await?;
    let buckets = bucket::load_many(conn, &bucket_ids).await?;
    Ok(TemplateDetail {
        id,
        buckets,
        template: Template {
            name: row.name,
            description: row.description,
            source: row.source,
            version: row.version,
            os_template: row.os_template,
            cores: to_u32(row.cores),
            memory_mib: to_u32(row.memory_mib),
            swap_mib: to_u32(row.swap_mib),
            disk_gib: to_u32(row.disk_gib),
            storage: row.storage,
            bridge: row.bridge,
            unprivileged: row.unprivileged,
            nesting: row.nesting,
            keyctl: row.keyctl,
            fuse: row.fuse,
            tags: row.tags,
            scripts,
            files,
            packages,
            bucket_ids,
        },
    })
}

/// Every template with its resources and counts, by name.
pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<TemplateSummary>> {
    let rows: Vec<TemplateRow> = templates::table
        .order(templates::name)
        .select(TemplateRow::as_select())
        .load(conn)
        .await?;
    let count_map = |pairs: Vec<(TemplateId, i64)>| -> HashMap<TemplateId, u32> {
        pairs
            .into_iter()
            .map(|(id, n)| (id, u32::try_from(n).unwrap_or(0)))
            .collect()
    };
    let scripts = count_map(
        template_scripts::table
            .group_by(template_scripts::template_id)
            .select((template_scripts::template_id, diesel::dsl::count_star()))
            .load(conn)
            .await?,
    );
    let files = count_map(
        template_files::table
            .group_by(template_files::template_id)
            .select((template_files::template_id, diesel::dsl::count_star()))
            .load(conn)
            .await?,
    );
    let packages = count_map(
        template_packages::table
            .group_by(template_packages::template_id)
            .select((template_packages::template_id, diesel::dsl::count_star()))
            .load(conn)
            .await?,
    );
    Ok(rows
        .into_iter()
        .map(|r| TemplateSummary {
            id: r.id,
            script_count: scripts.get(&r.id).copied().unwrap_or(0),
            file_count: files.get(&r.id).copied().unwrap_or(0),
            package_count: packages.get(&r.id).copied().unwrap_or(0),
            name: r.name,
            description: r.description,
            source: r.source,
            os_template: r.os_template,
            cores: to_u32(r.cores),
            memory_mib: to_u32(r.memory_mib),
            disk_gib: to_u32(r.disk_gib),
            tags: r.tags,
        })
        .collect())
}
