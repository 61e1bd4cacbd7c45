//! Labelled inputs for rows of a list (scripts, files, packages), whose ids and error keys are
//! made at run time; same markup as [`crate::components::field::TextField`].

use domain::FieldErrors;
use leptos::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh key for a list row, stable while the row is moved around.
pub fn next_key() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The error for `{prefix}.{index}.{field}`, following the row as its index changes.
pub fn row_error(
    errors: RwSignal<FieldErrors>,
    prefix: &'static str,
    index: Memo<usize>,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        let key = format!("{prefix}.{}.{field}", index.get());
        errors.with(|e| e.get(&key).map(str::to_owned))
    })
}

/// `aria-describedby` for a field with an optional hint and error.
fn described_by(
    id: &str,
    hint: bool,
    error: Signal<Option<String>>,
) -> impl Fn() -> String + use<> {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    move || {
        let mut ids = Vec::new();
        if hint {
            ids.push(hint_id.clone());
        }
        if error.with(Option::is_some) {
            ids.push(error_id.clone());
        }
        ids.join(" ")
    }
}

/// The hint and error lines under a field.
#[component]
fn FieldNotes(id: String, hint: &'static str, error: Signal<Option<String>>) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    view! {
        {(!hint.is_empty()).then(|| view! { <p class="field-hint" id=hint_id>{hint}</p> })}
        <Show when=move || error.with(Option::is_some)>
            <p class="field-error" id=error_id.clone() role="alert">
                {move || error.get().unwrap_or_default()}
            </p>
        </Show>
    }
}

fn invalid(error: Signal<Option<String>>) -> impl Fn() -> &'static str {
    move || {
        if error.with(Option::is_some) {
            "true"
        } else {
            "false"
        }
    }
}

/// A labelled one-line input.
#[component]
pub fn InputField(
    id: String,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into, optional)] error: Signal<Option<String>>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let described = described_by(&id, !hint.is_empty(), error);
    view! {
        <div class="field" class:field-invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                type=input_type
                placeholder=placeholder
                aria-invalid=invalid(error)
                aria-describedby=described
                bind:value=value
            />
            <FieldNotes id hint error />
        </div>
    }
}

/// A labelled multi-line input; `code` sets a monospace font for scripts and file contents.
#[component]
pub fn AreaField(
    id: String,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into, optional)] error: Signal<Option<String>>,
    #[prop(default = 6)] rows: u32,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] code: bool,
) -> impl IntoView {
    let described = described_by(&id, !hint.is_empty(), error);
    view! {
        <div class="field field-wide" class:field-invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>{label}</label>
            <textarea
                id=id.clone()
                class:code-input=code
                rows=rows
                spellcheck="false"
                aria-invalid=invalid(error)
                aria-describedby=described
                bind:value=value
            ></textarea>
            <FieldNotes id hint error />
        </div>
    }
}

/// A labelled choice among fixed values (value, shown text).
#[component]
pub fn SelectField(
    id: String,
    label: &'static str,
    value: RwSignal<String>,
    options: Vec<(&'static str, &'static str)>,
    #[prop(into, optional)] error: Signal<Option<String>>,
) -> impl IntoView {
    let described = described_by(&id, false, error);
    view! {
        <div class="field" class:field-invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>{label}</label>
            <select
                id=id.clone()
                aria-invalid=invalid(error)
                aria-describedby=described
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))
            >
                {options
                    .into_iter()
                    .map(|(v, text)| {
                        view! { <option value=v selected=move || value.get() == v>{text}</option> }
                    })
                    .collect_view()}
            </select>
            <FieldNotes id hint="" error />
        </div>
    }
}

/// A labelled checkbox.
#[component]
pub fn CheckField(
    id: String,
    label: &'static str,
    checked: RwSignal<bool>,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field check-field">
            <label class="radio" for=id.clone()>
                <input
                    type="checkbox"
                    id=id.clone()
                    aria-describedby=(!hint.is_empty()).then(|| hint_id.clone())
                    prop:checked=move || checked.get()
                    on:change=move |ev| checked.set(event_target_checked(&ev))
                />
                {label}
            </label>
            {(!hint.is_empty()).then(|| view! { <p class="field-hint" id=hint_id>{hint}</p> })}
        </div>
    }
}

/// Move up, Move down (when `reorder`) and Remove buttons for row `index` of `rows`. Any change
/// clears `errors`, whose keys are row indexes.
pub fn row_buttons<T: Send + Sync + 'static>(
    rows: RwSignal<Vec<T>>,
    index: Memo<usize>,
    what: &'static str,
    reorder: bool,
    errors: RwSignal<FieldErrors>,
) -> impl IntoView {
    let len = move || rows.with(Vec::len);
    let shift = move |up: bool| {
        let i = index.get_untracked();
        let j = if up { i.checked_sub(1) } else { Some(i + 1) };
        if let Some(j) = j.filter(|j| *j < len()) {
            rows.update(|r| r.swap(i, j));
            errors.set(FieldErrors::default());
        }
    };
    // "Move script 2 up", "Remove script 2".
    let label = move |verb: &str, tail: &str| format!("{verb} {what} {}{tail}", index.get() + 1);
    view! {
        <div class="row-buttons">
            {reorder
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="button button-small"
                            aria-label=move || label("Move", " up")
                            disabled=move || index.get() == 0
                            on:click=move |_| shift(true)
                        >
                            "Move up"
                        </button>
                        <button
                            type="button"
                            class="button button-small"
                            aria-label=move || label("Move", " down")
                            disabled=move || { index.get() + 1 >= len() }
                            on:click=move |_| shift(false)
                        >
                            "Move down"
                        </button>
                    }
                })}
            <button
                type="button"
                class="button button-small button-danger"
                aria-label=move || label("Remove", "")
                on:click=move |_| {
                    let i = index.get_untracked();
                    rows.update(|r| {
                        if i < r.len() {
                            r.remove(i);
                        }
                    });
                    errors.set(FieldErrors::default());
                }
            >
                "Remove"
            </button>
        </div>
    }
}

/// The current index of the row with `key`, as rows are moved and removed.
pub fn index_of<T: Send + Sync + 'static>(
    rows: RwSignal<Vec<T>>,
    key: u64,
    key_of: fn(&T) -> u64,
) -> Memo<usize> {
    Memo::new(move |_| {
        rows.with(|r| r.iter().position(|x| key_of(x) == key))
            .unwrap_or(0)
    })
}
