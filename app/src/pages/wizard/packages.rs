//! Step 3: the template's packages and its buckets' packages, each selectable, plus custom
//! packages with their manager.

use super::state::{PackageChoice, WizardState};
use crate::components::field::{TextField, error_for};
use crate::pages::templates::packages::manager_options;
use domain::template::PackageManager;
use leptos::prelude::*;

#[component]
pub fn PackagesStep(state: WizardState) -> impl IntoView {
    let errors = state.errors;
    let name = RwSignal::new(String::new());
    let manager = RwSignal::new(PackageManager::Apt.as_str().to_owned());
    let version = RwSignal::new(String::new());
    let add = move || {
        let chosen = manager
            .get_untracked()
            .parse()
            .unwrap_or(PackageManager::Apt);
        match state.add_custom_package(&name.get_untracked(), chosen, &version.get_untracked()) {
            Ok(()) => {
                name.set(String::new());
                version.set(String::new());
                errors.set(Default::default());
            }
            Err(found) => errors.set(found),
        }
    };
    let count = move || state.selected_packages().len();

    view! {
        <section class="card wizard-panel" aria-labelledby="step-heading">
            <h2 id="step-heading" tabindex="-1">"3. Packages"</h2>
            <p class="muted" data-testid="package-count">
                {move || format!("{} selected. Untick what you do not want installed.", count())}
            </p>
            <Show
                when=move || !state.packages.with(Vec::is_empty)
                fallback=|| view! { <p class="muted">"This template installs no packages. Add your own below."</p> }
            >
                <ul class="wizard-packages" data-testid="wizard-packages">
                    <For each=move || state.packages.get() key=|c| (c.key, c.selected) let:choice>
                        <PackageRow choice state />
                    </For>
                </ul>
            </Show>
            <form
                class="wizard-add-package"
                aria-labelledby="add-package-heading"
                on:submit=move |ev| {
                    ev.prevent_default();
                    add();
                }
            >
                <h3 id="add-package-heading">"Add a package"</h3>
                <div class="wizard-grid">
                    <TextField id="custom_package_name" label="Package name" value=name
                        error=error_for(errors, "custom_package_name") placeholder="htop" />
                    <div class="field">
                        <label for="custom_package_manager">"Installed with"</label>
                        <select
                            id="custom_package_manager"
                            prop:value=move || manager.get()
                            on:change=move |ev| manager.set(event_target_value(&ev))
                        >
                            {manager_options().into_iter().map(|(v, text)| view! {
                                <option value=v selected=move || manager.get() == v>{text}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <TextField id="custom_package_version" label="Version (optional)" value=version
                        error=error_for(errors, "custom_package_version") />
                </div>
                <button type="submit" class="button">"Add package"</button>
            </form>
        </section>
    }
}

/// One package with its tick box, source and (for custom ones) a Remove button.
#[component]
fn PackageRow(choice: PackageChoice, state: WizardState) -> impl IntoView {
    let key = choice.key;
    let id = format!("package-{key}");
    let p = &choice.package;
    let label = match &p.version {
        Some(v) => format!("{} {} ({})", p.name, v, p.manager),
        None => format!("{} ({})", p.name, p.manager),
    };
    let source = if choice.source == "template" {
        "from the template".to_owned()
    } else if choice.source == "custom" {
        "added by you".to_owned()
    } else {
        format!("bucket {}", choice.source)
    };
    let custom = choice.source == "custom";
    // Errors are keyed by the position among the selected packages, as the checks number them.
    let error = Signal::derive(move || {
        let position = state
            .selected_packages()
            .iter()
            .position(|(k, _)| *k == key)?;
        state.errors.with(|e| {
            e.get(&format!("packages.{position}.name"))
                .or_else(|| e.get(&format!("packages.{position}.version")))
                .map(str::to_owned)
        })
    });
    let toggle = move |ev| {
        let on = event_target_checked(&ev);
        state.packages.update(|list| {
            if let Some(c) = list.iter_mut().find(|c| c.key == key) {
                c.selected = on;
            }
        });
    };
    let remove = move |_| state.packages.update(|list| list.retain(|c| c.key != key));
    let remove_label = format!("Remove {}", p.name);
    view! {
        <li class="wizard-package" class:field-invalid=move || error.with(Option::is_some)>
            <label class="radio" for=id.clone()>
                <input type="checkbox" id=id.clone() prop:checked=choice.selected on:change=toggle />
                <span>{label}</span>
            </label>
            <span class="chip chip-quiet">{source}</span>
            {custom.then(|| view! {
                <button type="button" class="button button-small button-danger" aria-label=remove_label on:click=remove>"Remove"</button>
            })}
            <Show when=move || error.with(Option::is_some)>
                <p class="field-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
        </li>
    }
}
