//! Roles and disabled accounts in the database: the migration that brought roles, and what a
//! disabled account's sessions are worth.

use backend::db::{self, DbConn};
use backend::models::{Session, User};
use chrono::{Duration, Utc};
use domain::user::Role;

/// The migration that added roles, disabled accounts and the audit record.
const ROLES_MIGRATION: &str = "2026-12-04-193600";

/// Applies the migrations before roles existed, stores an account the old way, then applies
/// the rest.
async fn database_with_an_account_from_before_roles(username: &'static str) -> String {
    let url = testkit::empty_database().await;
    let sync_url = url.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::migration::Migration as _;
        use diesel::{Connection, RunQueryDsl};
        use diesel_async::AsyncPgConnection;
        use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
        use diesel_migrations::MigrationHarness;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&sync_url).unwrap();
        loop {
            let pending = conn.pending_migrations(db::MIGRATIONS).unwrap();
            let next = pending.first().expect("the roles migration exists");
            let version = next.name().version().to_string().replace('-', "");
            if version.starts_with(&ROLES_MIGRATION.replace('-', "")) {
                break;
            }
            conn.run_next_migration(db::MIGRATIONS).unwrap();
        }
        diesel::sql_query(format!(
            "INSERT INTO users (id, username, password_hash) VALUES (gen_random_uuid(), '{username}', 'h')"
        ))
        .execute(&mut conn)
        .unwrap();
    })
    .await
    .unwrap();
    db::run_migrations(&url).await.unwrap();
    url
}

#[tokio::test]
async fn accounts_from_before_roles_become_admins() {
    let url = database_with_an_account_from_before_roles("old-admin").await;
    let mut conn: DbConn = db::pool(&url, 1).unwrap().get().await.unwrap();
    let user = User::find_by_username(&mut conn, "old-admin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, Role::Admin);
    assert!(user.disabled_at.is_none());

    // New accounts name their role: the column has no default.
    use diesel_async::RunQueryDsl;
    let without_role = diesel::sql_query(
        "INSERT INTO users (id, username, password_hash) VALUES (gen_random_uuid(), 'new', 'h')",
    )
    .execute(&mut conn)
    .await;
    assert!(
        without_role.is_err(),
        "an account without a role was stored"
    );
    let operator = User::create(&mut conn, "new", "h", Role::Operator)
        .await
        .unwrap();
    assert_eq!(operator.role, Role::Operator);
}

#[tokio::test]
async fn a_disabled_accounts_sessions_are_not_valid() {
    let url = testkit::migrated_database().await;
    let mut conn: DbConn = db::pool(&url, 1).unwrap().get().await.unwrap();
    let user = User::create(&mut conn, "dora", "h", Role::Operator)
        .await
        .unwrap();
    Session::create(
        &mut conn,
        b"dora-session",
        user.id,
        Utc::now() + Duration::hours(1),
    )
    .await
    .unwrap();
    assert!(valid(&mut conn).await);
    assert!(User::set_disabled(&mut conn, user.id, true).await.unwrap());
    assert!(
        !valid(&mut conn).await,
        "a disabled account's session counts"
    );
    assert!(User::set_disabled(&mut conn, user.id, false).await.unwrap());
    assert!(valid(&mut conn).await);
}

async fn valid(conn: &mut DbConn) -> bool {
    Session::find_valid(conn, b"dora-session", Utc::now())
        .await
        .unwrap()
        .is_some()
}
