//! `server user create` against a real database: the first account is an admin, later ones
//! operators unless `--role` says otherwise; names and passwords follow the users page's rules.

use backend::models::User;
use domain::user::Role;

fn user_create(database_url: &str, args: &[&str], password: &str) -> (bool, String) {
    let args: Vec<&str> = ["user", "create"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    crate::cli::run_server(&args, database_url, &[], password)
}

#[tokio::test]
async fn user_create_makes_the_first_account_an_admin_and_takes_a_role() {
    let database_url = testkit::migrated_database().await;
    let created = [
        (vec!["--username", "first"], Role::Admin),
        (vec!["--username", "second"], Role::Operator),
        (vec!["--username", "third", "--role", "admin"], Role::Admin),
        (
            vec!["--username", "fourth", "--role", "operator"],
            Role::Operator,
        ),
    ];
    for (args, _) in &created {
        let (ok, out) = user_create(&database_url, args, "long enough");
        assert!(ok, "{args:?}: {out}");
        assert!(out.contains("created user"), "{out}");
    }
    for (args, password, says) in [
        (
            vec!["--username", "x", "--role", "root"],
            "long enough",
            "admin or operator",
        ),
        (vec!["--username", "bad name"], "long enough", "user name"),
        (vec!["--username", "short-password"], "short", "at least 8"),
        (vec!["--username", "first"], "long enough", "exists already"),
    ] {
        let (ok, out) = user_create(&database_url, &args, password);
        assert!(!ok, "{args:?} was accepted: {out}");
        assert!(out.contains(says), "{args:?}: {out}");
    }

    let pool = backend::db::pool(&database_url, 1).unwrap();
    let mut conn = pool.get().await.unwrap();
    for (args, role) in created {
        let user = User::find_by_username(&mut conn, args[1])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.role, role, "{}", args[1]);
    }
    assert_eq!(User::count(&mut conn).await.unwrap(), 4);
}
