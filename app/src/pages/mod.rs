//! One page per file (or folder, for pages with parts).

pub mod account;
pub mod containers;
pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod settings;
pub mod templates;
pub mod users;
pub mod wizard;
