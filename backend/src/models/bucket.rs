//! Package buckets: named, reusable package lists.

use crate::schema::{bucket_packages, package_buckets};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::BucketId;
use domain::template::{Bucket, BucketDetail, Package, PackageManager};

async fn write_packages(
    conn: &mut AsyncPgConnection,
    id: BucketId,
    packages: &[Package],
) -> QueryResult<()> {
    let rows: Vec<_> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                bucket_packages::id.eq(uuid::Uuid::new_v4()),
                bucket_packages::bucket_id.eq(id),
                bucket_packages::position.eq(i as i32),
                bucket_packages::name.eq(&p.name),
                bucket_packages::manager.eq(p.manager.as_str()),
                bucket_packages::version.eq(&p.version),
            )
        })
        .collect();
    diesel::insert_into(bucket_packages::table)
        .values(rows)
        .execute(conn)
        .await
        .map(drop)
}

pub async fn insert(conn: &mut AsyncPgConnection, bucket: &Bucket) -> QueryResult<BucketId> {
    let bucket = bucket.clone();
    conn.transaction(async move |conn| {
        let id = BucketId::new_random();
        diesel::insert_into(package_buckets::table)
            .values((
                package_buckets::id.eq(id),
                package_buckets::name.eq(&bucket.name),
                package_buckets::description.eq(&bucket.description),
            ))
            .execute(conn)
            .await?;
        write_packages(conn, id, &bucket.packages).await?;
        Ok(id)
    })
    .await
}

/// Replaces a bucket's name, description and packages; false if it does not exist.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: BucketId,
    bucket: &Bucket,
) -> QueryResult<bool> {
    let bucket = bucket.clone();
    conn.transaction(async move |conn| {
        let n = diesel::update(package_buckets::table.find(id))
            .set((
                package_buckets::name.eq(&bucket.name),
                package_buckets::description.eq(&bucket.description),
                package_buckets::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        if n == 0 {
            return Ok(false);
        }
        diesel::delete(bucket_packages::table.filter(bucket_packages::bucket_id.eq(id)))
            .execute(conn)
            .await?;
        write_packages(conn, id, &bucket.packages).await?;
        Ok(true)
    })
    .await
}

pub async fn delete(conn: &mut AsyncPgConnection, id: BucketId) -> QueryResult<bool> {
    Ok(diesel::delete(package_buckets::table.find(id))
        .execute(conn)
        .await?
        == 1)
}

/// The given buckets with their packages, by name.
pub async fn load_many(
    conn: &mut AsyncPgConnection,
    ids: &[BucketId],
) -> QueryResult<Vec<BucketDetail>> {
    let heads: Vec<(BucketId, String, String)> = package_buckets::table
        .filter(package_buckets::id.eq_any(ids))
        .order(package_buckets::name)
        .select((
            package_buckets::id,
            package_buckets::name,
            package_buckets::description,
        ))
        .load(conn)
        .await?;
    with_packages(conn, heads).await
}

/// Every bucket with its packages, by name.
pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<BucketDetail>> {
    let heads: Vec<(BucketId, String, String)> = package_buckets::table
        .order(package_buckets::name)
        .select((
            package_buckets::id,
            package_buckets::name,
            package_buckets::description,
        ))
        .load(conn)
        .await?;
    with_packages(conn, heads).await
}

async fn with_packages(
    conn: &mut AsyncPgConnection,
    heads: Vec<(BucketId, String, String)>,
) -> QueryResult<Vec<BucketDetail>> {
    let ids: Vec<BucketId> = heads.iter().map(|h| h.0).collect();
    let rows: Vec<(BucketId, String, String, Option<String>)> = bucket_packages::table
        .filter(bucket_packages::bucket_id.eq_any(&ids))
        .order((bucket_packages::bucket_id, bucket_packages::position))
        .select((
            bucket_packages::bucket_id,
            bucket_packages::name,
            bucket_packages::manager,
            bucket_packages::version,
        ))
        .load(conn)
        .await?;
    Ok(heads
        .into_iter()
        .map(|(id, name, description)| BucketDetail {
            id,
            bucket: Bucket {
                name,
                description,
                packages: rows
                    .iter()
                    .filter(|r| r.0 == id)
                    .map(|(_, name, manager, version)| Package {
                        name: name.clone(),
                        manager: manager.parse().unwrap_or(PackageManager::Custom),
                        version: version.clone(),
                    })
                    .collect(),
            },
        })
        .collect())
}
