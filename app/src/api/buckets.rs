//! Package buckets: named, reusable package lists a template can include.

use crate::error::AppError;
use domain::BucketId;
use domain::template::{Bucket, BucketDetail};
use leptos::prelude::*;

/// Every bucket with its packages, by name.
#[server(endpoint = "buckets/list", input = server_fn::codec::Json)]
pub async fn list_buckets() -> Result<Vec<BucketDetail>, AppError> {
    use crate::ssr::{ServerContext, current_user};
    current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    Ok(backend::models::bucket::list(&mut conn).await?)
}

/// Creates a bucket (`id` is `None`) or replaces one's name, description and packages.
#[server(endpoint = "buckets/save", input = server_fn::codec::Json)]
pub async fn save_bucket(id: Option<BucketId>, bucket: Bucket) -> Result<BucketDetail, AppError> {
    use crate::ssr::{ServerContext, current_user};
    use backend::models::{bucket as model, is_unique_violation};

    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let bucket = bucket.validated()?;
    let mut conn = ctx.conn().await?;
    let saved = match id {
        None => model::insert(&mut conn, &bucket).await.map(Some),
        Some(id) => model::update(&mut conn, id, &bucket)
            .await
            .map(|found| found.then_some(id)),
    };
    let id = match saved {
        Ok(Some(id)) => id,
        Ok(None) => return Err(AppError::NotFound),
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::field(
                "name",
                "A bucket with this name already exists.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user = %user.username, bucket = %bucket.name, bucket.id = %id, "bucket saved");
    Ok(BucketDetail { id, bucket })
}

/// Deletes a bucket; templates that included it no longer do.
#[server(endpoint = "buckets/delete", input = server_fn::codec::Json)]
pub async fn delete_bucket(id: BucketId) -> Result<(), AppError> {
    use crate::ssr::{ServerContext, current_user};
    let user = current_user().await?;
    let ctx = ServerContext::get()?;
    let mut conn = ctx.conn().await?;
    if !backend::models::bucket::delete(&mut conn, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(user = %user.username, bucket.id = %id, "bucket deleted");
    Ok(())
}
