//! Editing a template's scripts: name, description, content, enabled; run in list order.

use super::fields::{
    AreaField, CheckField, InputField, index_of, next_key, row_buttons, row_error,
};
use domain::FieldErrors;
use domain::template::Script;
use leptos::prelude::*;

/// One script being edited.
#[derive(Clone, Copy)]
pub struct ScriptRow {
    pub key: u64,
    pub name: RwSignal<String>,
    pub description: RwSignal<String>,
    pub content: RwSignal<String>,
    pub enabled: RwSignal<bool>,
}

impl ScriptRow {
    pub fn new(s: &Script) -> Self {
        Self {
            key: next_key(),
            name: RwSignal::new(s.name.clone()),
            description: RwSignal::new(s.description.clone()),
            content: RwSignal::new(s.content.clone()),
            enabled: RwSignal::new(s.enabled),
        }
    }

    pub fn script(&self) -> Script {
        Script {
            name: self.name.get_untracked(),
            description: self.description.get_untracked(),
            content: self.content.get_untracked(),
            enabled: self.enabled.get_untracked(),
        }
    }
}

#[component]
pub fn ScriptEditor(
    rows: RwSignal<Vec<ScriptRow>>,
    errors: RwSignal<FieldErrors>,
) -> impl IntoView {
    view! {
        <ol class="row-list" data-testid="script-rows">
            <For each=move || rows.get() key=|r| r.key let:row>
                {
                    let index = index_of(rows, row.key, |r| r.key);
                    let id = move |field: &str| format!("script-{}-{field}", row.key);
                    view! {
                        <li class="row-item">
                            <fieldset class="row-fields">
                                <legend>{move || format!("Script {}", index.get() + 1)}</legend>
                                <InputField
                                    id=id("name")
                                    label="Script name"
                                    value=row.name
                                    error=row_error(errors, "scripts", index, "name")
                                    placeholder="10-install.sh"
                                />
                                <InputField
                                    id=id("description")
                                    label="Description"
                                    value=row.description
                                />
                                <CheckField
                                    id=id("enabled")
                                    label="Run this script"
                                    checked=row.enabled
                                />
                                <AreaField
                                    id=id("content")
                                    label="Script"
                                    value=row.content
                                    error=row_error(errors, "scripts", index, "content")
                                    rows=8
                                    code=true
                                    hint="Runs as root with bash inside the container."
                                />
                            </fieldset>
                            {row_buttons(rows, index, "script", true, errors)}
                        </li>
                    }
                }
            </For>
        </ol>
        <Show when=move || rows.with(Vec::is_empty)>
            <p class="muted">"No scripts yet."</p>
        </Show>
        <button
            type="button"
            class="button"
            on:click=move |_| {
                rows.update(|r| {
                    r.push(
                        ScriptRow::new(
                            &Script {
                                name: String::new(),
                                description: String::new(),
                                content: "#!/bin/bash\nset -euo pipefail\n".into(),
                                enabled: true,
                            },
                        ),
                    )
                })
            }
        >
            "Add script"
        </button>
    }
}
