//! Templates: the list, a template's detail, the create/edit form; and package buckets.

pub mod buckets;
pub mod detail;
pub mod edit;
pub mod list;
