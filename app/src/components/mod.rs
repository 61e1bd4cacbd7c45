//! Building blocks shared by the pages.

pub mod field;
pub mod shell;
