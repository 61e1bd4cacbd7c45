//! Form fields with a visible label bound to the input and the field's error beside it.

use domain::FieldErrors;
use leptos::prelude::*;

/// The error message for `field` in `errors`, as a signal.
pub fn error_for(errors: RwSignal<FieldErrors>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || errors.with(|e| e.get(field).map(str::to_owned)))
}

/// A labelled text-like input (`text`, `password`, `number` …).
#[component]
pub fn TextField(
    /// The input's id, also the field name its error is keyed by.
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into, optional)] error: Signal<Option<String>>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] autocomplete: &'static str,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if !hint.is_empty() {
                ids.push(hint_id.clone());
            }
            if error.with(Option::is_some) {
                ids.push(error_id.clone());
            }
            ids.join(" ")
        }
    };
    view! {
        <div class="field" class:field-invalid=move || error.with(Option::is_some)>
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=input_type
                placeholder=placeholder
                autocomplete=(!autocomplete.is_empty()).then_some(autocomplete)
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                aria-describedby=described_by
                bind:value=value
            />
            <Show when=move || !hint.is_empty()>
                <p class="field-hint" id=hint_id.clone()>{hint}</p>
            </Show>
            <Show when=move || error.with(Option::is_some)>
                <p class="field-error" id=error_id.clone() role="alert">
                    {move || error.get().unwrap_or_default()}
                </p>
            </Show>
        </div>
    }
}

/// A banner for an error that belongs to no single field.
#[component]
pub fn ErrorBanner(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.with(Option::is_some)>
            <div class="banner banner-error" role="alert">{move || message.get().unwrap_or_default()}</div>
        </Show>
    }
}
