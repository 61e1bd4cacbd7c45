//! One page per file.

pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod settings;
