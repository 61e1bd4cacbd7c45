//! A new password typed twice, as the users page and the account page ask for it.

use crate::components::field::{TextField, error_for};
use domain::FieldErrors;
use leptos::prelude::*;

/// Two password inputs: the new password (with the rules as a hint) and the same again. Their
/// errors are `errors`' `password_key` and `confirm`.
#[component]
pub fn NewPasswordFields(
    /// The ids of the two inputs.
    ids: (&'static str, &'static str),
    /// The labels of the two inputs.
    labels: (&'static str, &'static str),
    password: RwSignal<String>,
    confirm: RwSignal<String>,
    errors: RwSignal<FieldErrors>,
    /// The error key of the first input (the second's is `confirm`).
    #[prop(default = "password")]
    password_key: &'static str,
) -> impl IntoView {
    view! {
        <TextField id=ids.0 label=labels.0 value=password error=error_for(errors, password_key)
            input_type="password" autocomplete="new-password" hint="At least 8 characters." />
        <TextField id=ids.1 label=labels.1 value=confirm error=error_for(errors, "confirm")
            input_type="password" autocomplete="new-password" />
    }
}
