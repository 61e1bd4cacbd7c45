//! Editing a template's files: name, target directory, policy and content.

use super::fields::{
    AreaField, InputField, SelectField, index_of, next_key, row_buttons, row_error,
};
use domain::FieldErrors;
use domain::template::{FilePolicy, TemplateFile};
use leptos::prelude::*;

/// One file being edited.
#[derive(Clone, Copy)]
pub struct FileRow {
    pub key: u64,
    pub name: RwSignal<String>,
    pub target_dir: RwSignal<String>,
    pub policy: RwSignal<String>,
    pub content: RwSignal<String>,
}

impl FileRow {
    pub fn new(f: &TemplateFile) -> Self {
        Self {
            key: next_key(),
            name: RwSignal::new(f.name.clone()),
            target_dir: RwSignal::new(f.target_dir.clone()),
            policy: RwSignal::new(f.policy.as_str().to_owned()),
            content: RwSignal::new(f.content.clone()),
        }
    }

    pub fn file(&self) -> TemplateFile {
        TemplateFile {
            name: self.name.get_untracked(),
            target_dir: self.target_dir.get_untracked(),
            policy: self
                .policy
                .get_untracked()
                .parse()
                .unwrap_or(FilePolicy::Replace),
            content: self.content.get_untracked(),
        }
    }
}

/// What each policy does, as select options.
pub fn policy_options() -> Vec<(&'static str, &'static str)> {
    vec![
        ("replace", "Replace: overwrite an existing file"),
        ("default", "Default: write only if the file is missing"),
        (
            "backup",
            "Backup: keep the old file as NAME.bak, then write",
        ),
    ]
}

#[component]
pub fn FileEditor(rows: RwSignal<Vec<FileRow>>, errors: RwSignal<FieldErrors>) -> impl IntoView {
    view! {
        <ol class="row-list" data-testid="file-rows">
            <For each=move || rows.get() key=|r| r.key let:row>
                {
                    let index = index_of(rows, row.key, |r| r.key);
                    let id = move |field: &str| format!("file-{}-{field}", row.key);
                    view! {
                        <li class="row-item">
                            <fieldset class="row-fields">
                                <legend>{move || format!("File {}", index.get() + 1)}</legend>
                                <InputField
                                    id=id("name")
                                    label="File name"
                                    value=row.name
                                    error=row_error(errors, "files", index, "name")
                                    placeholder="index.html"
                                />
                                <InputField
                                    id=id("target_dir")
                                    label="Target directory"
                                    value=row.target_dir
                                    error=row_error(errors, "files", index, "target_dir")
                                    placeholder="/var/www/html"
                                    hint="An absolute directory in the container."
                                />
                                <SelectField
                                    id=id("policy")
                                    label="If the file exists"
                                    value=row.policy
                                    options=policy_options()
                                />
                                <AreaField
                                    id=id("content")
                                    label="Content"
                                    value=row.content
                                    rows=8
                                    code=true
                                />
                            </fieldset>
                            {row_buttons(rows, index, "file", false, errors)}
                        </li>
                    }
                }
            </For>
        </ol>
        <Show when=move || rows.with(Vec::is_empty)>
            <p class="muted">"No files yet."</p>
        </Show>
        <button
            type="button"
            class="button"
            on:click=move |_| {
                rows.update(|r| {
                    r.push(
                        FileRow::new(
                            &TemplateFile {
                                name: String::new(),
                                target_dir: String::new(),
                                policy: FilePolicy::Replace,
                                content: String::new(),
                            },
                        ),
                    )
                })
            }
        >
            "Add file"
        </button>
    }
}
