//! Types and validation shared by the browser (`app` compiled to wasm32) and the backend.
//!
//! Everything here derives serde; database derives sit behind the `diesel` feature so the
//! browser build links no database code. Validation functions return [`FieldErrors`] keyed by the
//! form field's name, so the same check drives the message next to an input in the browser and the
//! refusal in the server function.

pub mod audit;
pub mod container;
pub mod event;
pub mod health;
pub mod ids;
pub mod node;
pub mod run;
pub mod spec;
pub mod task;
pub mod template;
pub mod text_enum;
pub mod usage;
pub mod user;
pub mod validation;
pub mod values;

pub use ids::{BucketId, ContainerId, NodeId, TemplateId, UserId};
pub use validation::FieldErrors;
