//! A labelled select whose options come from the node, with the field's error beside it.

use leptos::prelude::*;

/// A select of `(value, text)` options with an empty "Choose …" first option.
#[component]
pub fn ChoiceField(
    /// The select's id, also the field name its error is keyed by.
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
    #[prop(into, optional)] error: Signal<Option<String>>,
    #[prop(optional)] hint: &'static str,
    /// The first option's text, e.g. "Choose a storage".
    placeholder: &'static str,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
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
            <select
                id=id
                name=id
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                aria-describedby=described_by
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))
            >
                <option value="" selected=move || value.get().is_empty()>{placeholder}</option>
                {move || {
                    options
                        .get()
                        .into_iter()
                        .map(|(v, text)| {
                            let selected = v.clone();
                            view! { <option value=v selected=move || value.get() == selected>{text}</option> }
                        })
                        .collect_view()
                }}
            </select>
            <Show when=move || !hint.is_empty()>
                <p class="field-hint" id=hint_id.clone()>{hint}</p>
            </Show>
            <Show when=move || error.with(Option::is_some)>
                <p class="field-error" id=error_id.clone() role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
        </div>
    }
}
