//! Backend errors as the user sees them: details logged once here, a plain message returned.

use crate::error::AppError;

impl From<backend::services::ServiceError> for AppError {
    fn from(err: backend::services::ServiceError) -> Self {
        use backend::services::ServiceError as E;
        match err {
            E::Invalid { field, message } => AppError::field(field, message),
            E::Forbidden(message) => AppError::Forbidden(message),
            E::NotFound => AppError::NotFound,
            E::Conflict(message) => AppError::Conflict(message),
            E::Unavailable(message) => AppError::Unavailable(message),
            E::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                AppError::Internal
            }
        }
    }
}

impl From<backend::db::QueryError> for AppError {
    fn from(err: backend::db::QueryError) -> Self {
        backend::services::ServiceError::from(err).into()
    }
}

impl From<backend::crypto::CryptoError> for AppError {
    fn from(err: backend::crypto::CryptoError) -> Self {
        backend::services::ServiceError::from(err).into()
    }
}

impl From<backend::redis::RedisError> for AppError {
    fn from(err: backend::redis::RedisError) -> Self {
        backend::services::ServiceError::from(err).into()
    }
}

impl From<backend::accounts::AccountError> for AppError {
    fn from(err: backend::accounts::AccountError) -> Self {
        use backend::accounts::AccountError as E;
        match err {
            E::BadCredentials | E::NoSuchUser(_) => AppError::LoginFailed,
            E::Throttled { retry_after_secs } => AppError::Throttled { retry_after_secs },
            E::Busy => AppError::Unavailable(
                "The server is busy checking other logins; try again in a moment.".into(),
            ),
            E::Disabled => AppError::Forbidden(
                "This account is disabled. Ask an admin to enable it again.".into(),
            ),
            E::WrongCurrentPassword => {
                AppError::field("current_password", "This is not your current password.")
            }
            E::WeakPassword(message) => AppError::field("password", message),
            E::UsernameTaken(name) => {
                AppError::Conflict(format!("A user named {name} exists already."))
            }
            E::Database(e) => e.into(),
            E::Redis(e) => e.into(),
            E::Hash(e) => {
                tracing::error!(error = %e, "password hashing failed");
                AppError::Internal
            }
        }
    }
}

/// A server-function failure outside the function body, on the server: the request could not
/// be decoded (400, in words a person can act on, without Rust type names), the call does not
/// exist (404), or the answer could not be written (500, logged).
pub fn from_server_fn_error(err: server_fn::error::ServerFnErrorErr) -> AppError {
    use server_fn::error::ServerFnErrorErr as E;
    match err {
        E::Deserialization(text) | E::Args(text) => bad_body(&text),
        E::MissingArg(name) => AppError::field(&name, "Required."),
        E::Registration(_) => AppError::NotFound,
        E::UnsupportedRequestMethod(method) => AppError::BadRequest(format!(
            "This call does not take {method} requests; use POST."
        )),
        other => {
            tracing::error!(error = %other, "server function failed");
            AppError::Internal
        }
    }
}

/// Explains why a JSON body did not decode, from serde_json's message.
fn bad_body(text: &str) -> AppError {
    let position = text
        .rsplit_once(" at line ")
        .and_then(|(_, at)| at.split_once(" column "))
        .map(|(line, column)| format!(" (line {line}, column {column})"))
        .unwrap_or_default();
    if let Some(field) = between(text, "missing field `", "`") {
        return AppError::field(field, "Required.");
    }
    if let Some(field) = between(text, "unknown field `", "`") {
        return AppError::field(field, "This call has no such field.");
    }
    let message = if text.trim().is_empty() || text.contains("EOF while parsing") {
        "The request body is empty or cut short: send one JSON object with this call's fields."
            .to_owned()
    } else if let Some(found) = between(text, "invalid type: ", ", expected") {
        format!(
            "A value has the wrong type{position}: found {}.",
            shorten(found)
        )
    } else if let Some(found) = between(text, "invalid value: ", ", expected") {
        format!(
            "A value is not allowed{position}: found {}.",
            shorten(found)
        )
    } else if let Some(value) = between(text, "unknown variant `", "`") {
        format!("Unknown choice `{}`{position}.", shorten(value))
    } else if text.starts_with("expected ")
        || text.contains("trailing")
        || text.contains("key must be")
        || text.contains("control character")
        || text.contains("invalid escape")
        || text.contains("invalid number")
    {
        format!("The request body is not valid JSON{position}.")
    } else {
        format!("The request body does not fit this call{position}.")
    };
    AppError::BadRequest(message)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let (_, rest) = text.split_once(start)?;
    rest.split_once(end).map(|(inside, _)| inside)
}

/// At most 60 characters of a value quoted back to the user.
fn shorten(value: &str) -> String {
    let mut short: String = value.chars().take(60).collect();
    if short.len() < value.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_error(body: &str) -> String {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct CreateContainerForm {
            vmid: u32,
            hostname: String,
        }
        serde_json::from_str::<CreateContainerForm>(body)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_bodies_read_as_plain_words() {
        let cases = [
            ("", "empty"),
            ("not json", "not valid JSON (line 1, column 2)"),
            ("null", "wrong type"),
            (
                r#"{"vmid": "100abc", "hostname": "a"}"#,
                "found string \"100abc\"",
            ),
            (r#"{"vmid": 1, "hostname": "a"} x"#, "not valid JSON"),
        ];
        for (body, expected) in cases {
            let error = bad_body(&decode_error(body));
            let text = error.to_string();
            assert!(text.contains(expected), "{body:?}: {text}");
            assert!(
                !text.contains("CreateContainerForm") && !text.contains("u32"),
                "{text}"
            );
            assert_eq!(error.status(), 400, "{body:?}");
        }
        let missing = bad_body(&decode_error(r#"{"vmid": 100}"#));
        assert_eq!(missing, AppError::field("hostname", "Required."));
    }
}
