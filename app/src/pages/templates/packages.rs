//! Editing a package list (a template's or a bucket's): name, manager and version per row.

use super::fields::{InputField, SelectField, index_of, next_key, row_buttons, row_error};
use domain::FieldErrors;
use domain::template::{Package, PackageManager};
use leptos::prelude::*;

/// One package being edited.
#[derive(Clone, Copy)]
pub struct PackageRow {
    pub key: u64,
    pub name: RwSignal<String>,
    pub manager: RwSignal<String>,
    pub version: RwSignal<String>,
}

impl PackageRow {
    pub fn new(p: &Package) -> Self {
        Self {
            key: next_key(),
            name: RwSignal::new(p.name.clone()),
            manager: RwSignal::new(p.manager.as_str().to_owned()),
            version: RwSignal::new(p.version.clone().unwrap_or_default()),
        }
    }

    pub fn package(&self) -> Package {
        let version = self.version.get_untracked();
        Package {
            name: self.name.get_untracked(),
            manager: self
                .manager
                .get_untracked()
                .parse()
                .unwrap_or(PackageManager::Apt),
            version: (!version.trim().is_empty()).then_some(version),
        }
    }
}

pub fn rows_of(packages: &[Package]) -> Vec<PackageRow> {
    packages.iter().map(PackageRow::new).collect()
}

pub fn packages_of(rows: &[PackageRow]) -> Vec<Package> {
    rows.iter().map(PackageRow::package).collect()
}

/// The managers as (value, text) options.
pub fn manager_options() -> Vec<(&'static str, &'static str)> {
    PackageManager::ALL
        .iter()
        .map(|m| {
            let text = match m {
                PackageManager::Apt => "apt (Debian package)",
                PackageManager::Npm => "npm (Node.js)",
                PackageManager::Pip => "pip (Python)",
                PackageManager::Custom => "custom (install script)",
            };
            (m.as_str(), text)
        })
        .collect()
}

/// The rows with their inputs, reorder and remove buttons, and "Add package". Errors are read
/// from `packages.N.name|version`.
#[component]
pub fn PackageEditor(
    rows: RwSignal<Vec<PackageRow>>,
    errors: RwSignal<FieldErrors>,
    /// Prefix of the inputs' ids, unique on the page.
    id_prefix: &'static str,
) -> impl IntoView {
    view! {
        <ol class="row-list" data-testid=format!("{id_prefix}-rows")>
            <For each=move || rows.get() key=|r| r.key let:row>
                {
                    let index = index_of(rows, row.key, |r| r.key);
                    let id = move |field: &str| format!("{id_prefix}-{}-{field}", row.key);
                    view! {
                        <li class="row-item">
                            <fieldset class="row-fields row-fields-package">
                                <legend>{move || format!("Package {}", index.get() + 1)}</legend>
                                <InputField
                                    id=id("name")
                                    label="Package name"
                                    value=row.name
                                    error=row_error(errors, "packages", index, "name")
                                    placeholder="nginx"
                                />
                                <SelectField
                                    id=id("manager")
                                    label="Installed with"
                                    value=row.manager
                                    options=manager_options()
                                />
                                <InputField
                                    id=id("version")
                                    label="Version (optional)"
                                    value=row.version
                                    error=row_error(errors, "packages", index, "version")
                                />
                            </fieldset>
                            {row_buttons(rows, index, "package", true, errors)}
                        </li>
                    }
                }
            </For>
        </ol>
        <Show when=move || rows.with(Vec::is_empty)>
            <p class="muted">"No packages yet."</p>
        </Show>
        <button
            type="button"
            class="button"
            on:click=move |_| {
                rows.update(|r| {
                    r.push(
                        PackageRow::new(
                            &Package {
                                name: String::new(),
                                manager: PackageManager::Apt,
                                version: None,
                            },
                        ),
                    )
                })
            }
        >
            "Add package"
        </button>
    }
}
