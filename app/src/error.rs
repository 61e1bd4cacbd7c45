//! The one error type every server function returns, shown to the user as it is.

use domain::FieldErrors;
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// What went wrong, phrased for the person using the app. Internal details are logged on the
/// server and never sent to the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please log in.")]
    Unauthorized,
    #[error("Wrong user name or password.")]
    LoginFailed,
    #[error("Too many failed logins. Try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: i64 },
    #[error("Please correct the marked fields.")]
    Invalid(FieldErrors),
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A dependency (database, Redis, a Proxmox node) could not be reached; the text says which.
    #[error("{0}")]
    Unavailable(String),
    #[error("Something went wrong on the server. The details are in the server log.")]
    Internal,
    /// The request itself failed (network, decoding): the browser could not talk to the server.
    #[error("Could not reach the infrahaus server: {0}")]
    Transport(String),
}

impl AppError {
    /// The field errors, when this is a validation failure.
    pub fn field_errors(&self) -> FieldErrors {
        match self {
            AppError::Invalid(errors) => errors.clone(),
            _ => FieldErrors::default(),
        }
    }

    /// A validation failure on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        AppError::Invalid(errors)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        AppError::Invalid(errors)
    }
}
