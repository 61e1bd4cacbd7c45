//! Backend errors as the user sees them: details logged once here, a plain message returned.

use crate::error::AppError;

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        match err {
            diesel::result::Error::NotFound => AppError::NotFound,
            other => {
                tracing::error!(error = %other, "database error");
                AppError::Internal
            }
        }
    }
}

impl From<backend::crypto::CryptoError> for AppError {
    fn from(err: backend::crypto::CryptoError) -> Self {
        tracing::error!(error = %err, "could not open a stored secret");
        AppError::Internal
    }
}

impl From<fred::error::Error> for AppError {
    fn from(err: fred::error::Error) -> Self {
        tracing::error!(error = %err, "Redis error");
        AppError::Unavailable("Redis is not reachable right now.".into())
    }
}

impl From<backend::accounts::AccountError> for AppError {
    fn from(err: backend::accounts::AccountError) -> Self {
        use backend::accounts::AccountError as E;
        match err {
            E::BadCredentials | E::NoSuchUser(_) => AppError::LoginFailed,
            E::Throttled { retry_after_secs } => AppError::Throttled { retry_after_secs },
            E::WeakPassword { min } => {
                AppError::field("password", format!("Use at least {min} characters."))
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
