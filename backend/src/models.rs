//! Model types and the queries on them. Functions take a connection and return `QueryResult`.

pub mod audit;
pub mod bucket;
pub mod container;
pub mod credential;
pub mod event;
pub mod node;
pub mod run;
pub mod service;
pub mod session;
pub mod template;
pub mod user;

pub use container::{ContainerRow, NewContainer};
pub use credential::CredentialRow;
pub use node::{NewNode, NodeRow};
pub use run::RunRow;
pub use service::ServiceRow;
pub use session::Session;
pub use user::User;

/// True when `err` is a unique-constraint violation (a duplicate name, say).
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
