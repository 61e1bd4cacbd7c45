//! Step 1: pick a template, whose defaults fill the next steps, or start blank.

use super::state::{Origin, Step, WizardState};
use crate::api::templates::{get_template, list_templates};
use crate::error::AppError;
use domain::TemplateId;
use domain::template::{TemplateDetail, TemplateSummary};
use leptos::prelude::*;

#[component]
pub fn TemplateStep(state: WizardState) -> impl IntoView {
    let templates = LocalResource::new(list_templates);
    let load = Action::new_local(|id: &TemplateId| get_template(*id));
    Effect::new(move || {
        let Some(result) = load.value().get() else {
            return;
        };
        match result {
            Ok(detail) => choose(state, Origin::Template(detail.id), Some(&detail)),
            Err(e) => state.message.set(Some(e.to_string())),
        }
    });
    let start_blank = move |_| choose(state, Origin::Blank, None);
    let pick = move |id: TemplateId| {
        // Picking the template already chosen keeps everything entered since.
        if state.origin.get_untracked() == Some(Origin::Template(id)) {
            state.go(Step::Configure);
        } else {
            load.dispatch(id);
        }
    };
    let error = move || {
        state.errors.with(|e| {
            e.get("template")
                .or_else(|| e.get("template_id"))
                .map(str::to_owned)
        })
    };

    view! {
        <section class="card wizard-panel" aria-labelledby="step-heading">
            <h2 id="step-heading" tabindex="-1">"1. Choose a template"</h2>
            <p class="muted">"A template sets the resources, packages and setup scripts of the next steps. You can change all of them."</p>
            <Show when=move || error().is_some()>
                <p class="field-error" id="template-error" role="alert">{move || error().unwrap_or_default()}</p>
            </Show>
            <div class="wizard-blank">
                <button
                    type="button"
                    class="button"
                    class:button-primary=move || state.origin.get() == Some(Origin::Blank)
                    aria-pressed=move || if state.origin.get() == Some(Origin::Blank) { "true" } else { "false" }
                    on:click=start_blank
                >
                    "Start blank"
                </button>
                <span class="muted">"1 core, 512 MiB memory, 8 GiB disk, no packages or scripts."</span>
            </div>
            <Show when=move || load.pending().get()>
                <p class="muted" role="status">"Loading the template…"</p>
            </Show>
            <Suspense fallback=|| view! { <p class="muted">"Loading templates…"</p> }>
                {move || templates.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No templates yet. Start blank, or add templates under Templates."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="wizard-templates" data-testid="wizard-templates">
                            {list.into_iter().map(|t| view! { <TemplateChoice summary=t state on_pick=pick /> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(AppError::Unauthorized) => ().into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

fn choose(state: WizardState, origin: Origin, detail: Option<&TemplateDetail>) {
    if state.origin.get_untracked() != Some(origin) {
        state.apply(origin, detail);
    }
    state.errors.set(Default::default());
    state.go(Step::Configure);
}

/// One template as a card with a button that picks it.
#[component]
fn TemplateChoice(
    summary: TemplateSummary,
    state: WizardState,
    on_pick: impl Fn(TemplateId) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = summary.id;
    let chosen = move || state.origin.get() == Some(Origin::Template(id));
    let facts = format!(
        "{} · {} {} · {} MiB · {} GiB",
        summary.os_template,
        summary.cores,
        if summary.cores == 1 { "core" } else { "cores" },
        summary.memory_mib,
        summary.disk_gib
    );
    let counts = format!(
        "{} packages · {} scripts · {} files",
        summary.package_count, summary.script_count, summary.file_count
    );
    let name = summary.name.clone();
    view! {
        <li class="card wizard-template" class:wizard-template-chosen=chosen data-template=summary.name.clone()>
            <h3>{summary.name.clone()}</h3>
            <p class="muted">{summary.description.clone()}</p>
            <p class="wizard-template-facts">{facts}</p>
            <p class="wizard-template-facts muted">{counts}</p>
            <button
                type="button"
                class="button"
                class:button-primary=chosen
                aria-pressed=move || if chosen() { "true" } else { "false" }
                on:click=move |_| on_pick(id)
            >
                {format!("Use {name}")}
            </button>
        </li>
    }
}
