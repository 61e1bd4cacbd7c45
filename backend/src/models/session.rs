//! Server-side login sessions, found by the hash of the cookie token.

use super::User;
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

    /// The unexpired session with this token hash, of an account that is not disabled, and its
    /// user's name.
    pub async fn find_valid(
        conn: &mut AsyncPgConnection,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> QueryResult<Option<(Session, String)>> {
        Ok(Self::find_signed_in(conn, token_hash, now)
            .await?
            .map(|(session, user)| (session, user.username)))
    }

    /// Like [`Session::find_valid`], with the whole account (its role, say).
    pub async fn find_signed_in(
        conn: &mut AsyncPgConnection,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> QueryResult<Option<(Session, User)>> {
        sessions::table
            .inner_join(users::table)
            .filter(sessions::token_hash.eq(token_hash))
            .filter(sessions::expires_at.gt(now))
            .filter(users::disabled_at.is_null())
            .select((Session::as_select(), User::as_select()))
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

    /// Ends every session of a user (after a password reset, or when it is disabled).
    pub async fn delete_for_user(
        conn: &mut AsyncPgConnection,
        user_id: UserId,
    ) -> QueryResult<usize> {
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id)))
            .execute(conn)
            .await
    }

    /// Ends every session of a user but the one with `keep` (after they changed their own
    /// password); returns the token hashes of the ended ones.
    pub async fn delete_others_of_user(
        conn: &mut AsyncPgConnection,
        user_id: UserId,
        keep: &[u8],
    ) -> QueryResult<Vec<Vec<u8>>> {
        diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::token_hash.ne(keep)),
        )
        .returning(sessions::token_hash)
        .get_results(conn)
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
