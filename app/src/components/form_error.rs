//! Where a form's refusal goes: field errors next to their fields, anything else in the banner.

use crate::error::AppError;
use domain::FieldErrors;
use leptos::prelude::*;

/// Shows `error`: an [`AppError::Invalid`]'s fields beside their inputs (banner cleared), any
/// other error in the banner (field errors cleared).
pub fn show_error(
    error: AppError,
    errors: RwSignal<FieldErrors>,
    message: RwSignal<Option<String>>,
) {
    match error {
        AppError::Invalid(fields) => {
            errors.set(fields);
            message.set(None);
        }
        other => {
            errors.set(FieldErrors::default());
            message.set(Some(other.to_string()));
        }
    }
}

/// Clears both, after the form went through.
pub fn clear_errors(errors: RwSignal<FieldErrors>, message: RwSignal<Option<String>>) {
    errors.set(FieldErrors::default());
    message.set(None);
}
