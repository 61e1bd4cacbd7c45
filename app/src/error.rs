//! The one error type every server function returns, shown to the user as it is, and its wire
//! form: the JSON envelope every refusal of the API carries, with the HTTP status it goes with.
//!
//! ```json
//! {"error": "invalid", "message": "Please correct the marked fields.", "fields": {"hostname": "…"}}
//! {"error": "throttled", "message": "Too many failed logins. …", "retry_after_secs": 840}
//! ```
//!
//! | `error` | status | when |
//! |---|---|---|
//! | `bad_request` | 400 | the body is not JSON, or does not fit the call |
//! | `unauthorized` | 401 | no valid session |
//! | `login_failed` | 401 | wrong user name or password |
//! | `forbidden` | 403 | another site's page sent it, or the account may not do this |
//! | `not_found` | 404 | no such thing (or no such call) |
//! | `conflict` | 409 | the request clashes with the current state |
//! | `invalid` | 422 | a field is wrong; `fields` names each with its message |
//! | `throttled` | 429 | too many attempts; `retry_after_secs` (also `Retry-After`) |
//! | `internal` | 500 | a bug; the details are in the server log, never in the answer |
//! | `unavailable` | 503 | a dependency (database, Redis, a Proxmox node) is away |

use domain::FieldErrors;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// What went wrong, phrased for the person using the app. Internal details are logged on the
/// server and never sent to the browser.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    #[error("Please log in.")]
    Unauthorized,
    #[error("Wrong user name or password.")]
    LoginFailed,
    #[error("Too many failed logins. Try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: i64 },
    #[error("Please correct the marked fields.")]
    Invalid(FieldErrors),
    /// The request body could not be read as this call's input; the text says why, for a person.
    #[error("{0}")]
    BadRequest(String),
    /// The request is not allowed (another site's page sent it, or the account may not do this).
    #[error("{0}")]
    Forbidden(String),
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

    /// The HTTP status this error is sent with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized | AppError::LoginFailed => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound => 404,
            AppError::Conflict(_) => 409,
            AppError::Invalid(_) => 422,
            AppError::Throttled { .. } => 429,
            AppError::Internal => 500,
            AppError::Transport(_) => 502,
            AppError::Unavailable(_) => 503,
        }
    }

    /// The `error` code of the envelope.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::LoginFailed => "login_failed",
            AppError::Throttled { .. } => "throttled",
            AppError::Invalid(_) => "invalid",
            AppError::BadRequest(_) => "bad_request",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal => "internal",
            AppError::Transport(_) => "transport",
        }
    }

    /// Seconds to wait before trying again, for `Retry-After`.
    pub fn retry_after_secs(&self) -> Option<i64> {
        match self {
            AppError::Throttled { retry_after_secs } => Some(*retry_after_secs),
            AppError::Unavailable(_) => Some(5),
            _ => None,
        }
    }
}

/// The wire form of an [`AppError`].
#[derive(Serialize, Deserialize)]
struct Envelope {
    error: String,
    message: String,
    #[serde(default, skip_serializing_if = "FieldErrors::is_empty")]
    fields: FieldErrors,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<i64>,
}

impl Serialize for AppError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Envelope {
            error: self.code().to_owned(),
            message: self.to_string(),
            fields: self.field_errors(),
            retry_after_secs: match self {
                AppError::Throttled { retry_after_secs } => Some(*retry_after_secs),
                _ => None,
            },
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AppError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Envelope {
            error,
            message,
            fields,
            retry_after_secs,
        } = Envelope::deserialize(deserializer)?;
        Ok(match error.as_str() {
            "unauthorized" => AppError::Unauthorized,
            "login_failed" => AppError::LoginFailed,
            "throttled" => AppError::Throttled {
                retry_after_secs: retry_after_secs.unwrap_or(60),
            },
            "invalid" => AppError::Invalid(fields),
            "bad_request" => AppError::BadRequest(message),
            "forbidden" => AppError::Forbidden(message),
            "not_found" => AppError::NotFound,
            "conflict" => AppError::Conflict(message),
            "unavailable" => AppError::Unavailable(message),
            "internal" => AppError::Internal,
            _ => AppError::Transport(message),
        })
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        {
            crate::ssr::errors::from_server_fn_error(value)
        }
        #[cfg(not(feature = "ssr"))]
        {
            AppError::Transport(value.to_string())
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        AppError::Invalid(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_round_trips_through_its_envelope() {
        let mut fields = FieldErrors::new();
        fields.add("hostname", "Use letters, digits and dashes.");
        for error in [
            AppError::Unauthorized,
            AppError::LoginFailed,
            AppError::Throttled {
                retry_after_secs: 42,
            },
            AppError::Invalid(fields),
            AppError::BadRequest("The request body is not valid JSON.".into()),
            AppError::Forbidden("no".into()),
            AppError::NotFound,
            AppError::Conflict("busy".into()),
            AppError::Unavailable("The database is not reachable right now.".into()),
            AppError::Internal,
        ] {
            let json = serde_json::to_value(&error).unwrap();
            assert_eq!(json["error"], error.code());
            assert_eq!(json["message"], error.to_string());
            assert_eq!(serde_json::from_value::<AppError>(json).unwrap(), error);
        }
        let json = serde_json::to_value(AppError::field("vmid", "Too small.")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": "invalid", "message": "Please correct the marked fields.",
                "fields": {"vmid": "Too small."}})
        );
    }
}
