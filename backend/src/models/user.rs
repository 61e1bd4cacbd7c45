//! User accounts.

use crate::schema::users;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::UserId;
use domain::user::Role;

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub role: Role,
    /// Set while the account is disabled: it cannot log in.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("disabled_at", &self.disabled_at)
            .finish()
    }
}

impl User {
    pub async fn create(
        conn: &mut AsyncPgConnection,
        username: &str,
        password_hash: &str,
        role: Role,
    ) -> QueryResult<User> {
        diesel::insert_into(users::table)
            .values((
                users::id.eq(UserId::new_random()),
                users::username.eq(username),
                users::password_hash.eq(password_hash),
                users::role.eq(role),
            ))
            .returning(User::as_returning())
            .get_result(conn)
            .await
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<User> {
        users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .await
    }

    /// Every account, by name.
    pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<User>> {
        users::table
            .order(users::username)
            .select(User::as_select())
            .load(conn)
            .await
    }

    /// Changes the role; returns false when no such user exists.
    pub async fn set_role(
        conn: &mut AsyncPgConnection,
        id: UserId,
        role: Role,
    ) -> QueryResult<bool> {
        let updated = diesel::update(users::table.find(id))
            .set((users::role.eq(role), users::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        Ok(updated == 1)
    }

    /// Disables (from now) or enables the account; returns false when no such user exists.
    pub async fn set_disabled(
        conn: &mut AsyncPgConnection,
        id: UserId,
        disabled: bool,
    ) -> QueryResult<bool> {
        let disabled_at = disabled.then(Utc::now);
        let updated = diesel::update(users::table.find(id))
            .set((
                users::disabled_at.eq(disabled_at),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(updated == 1)
    }

    pub async fn find_by_username(
        conn: &mut AsyncPgConnection,
        username: &str,
    ) -> QueryResult<Option<User>> {
        users::table
            .filter(users::username.eq(username))
            .select(User::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// Replaces the password hash; returns false when no such user exists.
    pub async fn set_password_hash(
        conn: &mut AsyncPgConnection,
        id: UserId,
        password_hash: &str,
    ) -> QueryResult<bool> {
        let updated = diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(password_hash),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(updated == 1)
    }

    pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
        users::table.count().get_result(conn).await
    }
}
