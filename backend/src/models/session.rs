//! Server-side login sessions, found by the hash of the cookie token.

use crate::schema::{sessions, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::UserId;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    pub async fn create(
        conn: &mut AsyncPgConnection,
        token_hash: &[u8],
        user_id: UserId,
        expires_at: DateTime<Utc>,
    ) -> QueryResult<()> {
        diesel::insert_into(sessions::table)
            .values((
                sessions::token_hash.eq(token_hash),
                sessions::user_id.eq(user_id),
                sessions::expires_at.eq(expires_at),
            ))
            .execute(conn)
            .await
            .map(drop)
    }

    /// The unexpired session with this token hash, and its user's name.
    pub async fn find_valid(
        conn: &mut AsyncPgConnection,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> QueryResult<Option<(Session, String)>> {
        sessions::table
            .inner_join(users::table)
            .filter(sessions::token_hash.eq(token_hash))
            .filter(sessions::expires_at.gt(now))
            .select((Session::as_select(), users::username))
            .first(conn)
            .await
            .optional()
    }

    pub async fn delete(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> QueryResult<()> {
        diesel::delete(sessions::table.find(token_hash))
            .execute(conn)
            .await
            .map(drop)
    }

    /// Ends every session of a user (after a password reset).
    pub async fn delete_for_user(
        conn: &mut AsyncPgConnection,
        user_id: UserId,
    ) -> QueryResult<usize> {
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id)))
            .execute(conn)
            .await
    }

    pub async fn delete_expired(
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::delete(sessions::table.filter(sessions::expires_at.le(now)))
            .execute(conn)
            .await
    }
}
