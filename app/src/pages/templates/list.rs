//! The template list: search by name, filter by tag, cards with resources and counts, and
//! "Discover templates" to load the templates folder.

use super::{count_text, resources_text};
use crate::api::templates::{DiscoverReport, discover_templates, list_templates};
use domain::template::{TemplateSource, TemplateSummary};
use leptos::prelude::*;

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let templates = LocalResource::new(list_templates);
    let search = RwSignal::new(String::new());
    let tag = RwSignal::new(String::new());

    let discover = Action::new_local(|_: &()| discover_templates());
    Effect::new(move || {
        if let Some(Ok(_)) = discover.value().get() {
            templates.refetch();
        }
    });

    let all = move || templates.get().and_then(Result::ok).unwrap_or_default();
    let tags = move || {
        let mut tags: Vec<String> = all().into_iter().flat_map(|t| t.tags).collect();
        tags.sort();
        tags.dedup();
        tags
    };
    let shown = move || {
        let needle = search.get().trim().to_lowercase();
        let tag = tag.get();
        all()
            .into_iter()
            .filter(|t| needle.is_empty() || t.name.to_lowercase().contains(&needle))
            .filter(|t| tag.is_empty() || t.tags.contains(&tag))
            .collect::<Vec<_>>()
    };

    view! {
        <div class="page-head">
            <h1>"Templates"</h1>
            <div class="actions">
                <button
                    class="button"
                    type="button"
                    disabled=move || discover.pending().get()
                    on:click=move |_| {
                        discover.dispatch(());
                    }
                >
                    {move || if discover.pending().get() { "Discovering…" } else { "Discover templates" }}
                </button>
                <a class="button button-primary" href="/templates/new">"New template"</a>
            </div>
        </div>
        {move || discover.value().get().map(|result| match result {
            Ok(report) => view! { <DiscoverResult report /> }.into_any(),
            Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
        <div class="filters" role="search">
            <div class="field">
                <label for="template-search">"Search by name"</label>
                <input id="template-search" type="search" bind:value=search />
            </div>
            <div class="field">
                <label for="template-tag">"Filter by tag"</label>
                <select
                    id="template-tag"
                    prop:value=move || tag.get()
                    on:change=move |ev| tag.set(event_target_value(&ev))
                >
                    <option value="">"All tags"</option>
                    {move || {
                        tags()
                            .into_iter()
                            .map(|t| {
                                let selected = tag.get_untracked() == t;
                                view! { <option value=t.clone() selected=selected>{t.clone()}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </div>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || templates.get().map(|result| match result {
                Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <p class="muted">
                        "No templates yet. “Discover templates” loads the templates folder; “New template” starts one from scratch."
                    </p>
                }.into_any(),
                Ok(_) => view! {
                    <p class="muted" aria-live="polite">
                        {move || {
                            let n = shown().len() as u32;
                            format!("Showing {}.", count_text(n, "template", "templates"))
                        }}
                    </p>
                    <ul class="template-grid" data-testid="template-list">
                        <For each=shown key=|t| (t.id, t.name.clone(), t.tags.clone()) let:template>
                            <TemplateCard template />
                        </For>
                    </ul>
                }.into_any(),
            })}
        </Suspense>
    }
}

/// One template: name, description, OS, resources, counts, tags.
#[component]
fn TemplateCard(template: TemplateSummary) -> impl IntoView {
    let href = format!("/templates/{}", template.id);
    let counts = format!(
        "{} · {} · {}",
        count_text(template.script_count, "script", "scripts"),
        count_text(template.file_count, "file", "files"),
        count_text(template.package_count, "package", "packages"),
    );
    let source = match template.source {
        TemplateSource::Filesystem => "from folder",
        TemplateSource::Custom => "custom",
    };
    view! {
        <li class="card template-card" data-testid="template-card">
            <div class="template-card-head">
                <h2><a href=href>{template.name.clone()}</a></h2>
                <span class="chip chip-quiet">{source}</span>
            </div>
            <p class="template-description">{template.description.clone()}</p>
            <dl class="facts">
                <dt>"OS"</dt>
                <dd>{template.os_template.clone()}</dd>
                <dt>"Resources"</dt>
                <dd>{resources_text(template.cores, template.memory_mib, template.disk_gib)}</dd>
                <dt>"Carries"</dt>
                <dd>{counts}</dd>
            </dl>
            <ul class="chips" aria-label="Tags">
                {template.tags.iter().map(|t| view! { <li class="chip">{t.clone()}</li> }).collect_view()}
            </ul>
        </li>
    }
}

/// What a discovery did, and each problem with its file and line.
#[component]
fn DiscoverResult(report: DiscoverReport) -> impl IntoView {
    let ok = report.issues.is_empty();
    let names = |list: &[String]| {
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        }
    };
    view! {
        <div class=if ok { "banner banner-ok" } else { "banner banner-warn" } role="status" data-testid="discover-result">
            <p>
                <strong>
                    {format!(
                        "Templates folder read: {} added, {} updated, {} unchanged.",
                        report.added.len(),
                        report.updated.len(),
                        report.unchanged.len(),
                    )}
                </strong>
            </p>
            <dl class="facts">
                <dt>"Added"</dt>
                <dd>{names(&report.added)}</dd>
                <dt>"Updated"</dt>
                <dd>{names(&report.updated)}</dd>
            </dl>
            {(!ok).then(|| view! {
                <p>{format!("{} (everything else was loaded):", count_text(report.issues.len() as u32, "problem", "problems"))}</p>
                <ul class="issues">
                    {report.issues.iter().map(|i| {
                        let place = match i.line {
                            Some(line) => format!("{}:{line}", i.path),
                            None => i.path.clone(),
                        };
                        view! { <li><code>{place}</code>": "{i.message.clone()}</li> }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}
