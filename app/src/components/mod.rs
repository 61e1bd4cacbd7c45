//! Building blocks shared by the pages.

pub mod clipboard;
pub mod field;
pub mod shell;
