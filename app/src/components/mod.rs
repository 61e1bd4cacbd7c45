//! Building blocks shared by the pages.

pub mod account;
pub mod clipboard;
pub mod field;
pub mod form_error;
pub mod password;
pub mod shell;
