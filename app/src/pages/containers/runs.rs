//! On the container page: every run (the creation, then each update) with its outcome and a
//! link to its log; and "Re-apply the template" on a ready container, showing what would change
//! before it starts an update run.

use crate::api::updates::{container_runs, preview_update, start_update};
use crate::components::field::ErrorBanner;
use domain::ContainerId;
use domain::container::Lifecycle;
use domain::run::{RunSummary, UpdatePreview, UpdateSource};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// The list of runs.
#[component]
pub fn RunsList(id: ContainerId) -> impl IntoView {
    let runs = LocalResource::new(move || container_runs(id));
    view! {
        <section class="card" aria-labelledby="runs-heading" data-testid="runs">
            <h2 id="runs-heading">"Runs"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || runs.get().map(|result| match result {
                    Ok(runs) => view! { <RunsTable id runs /> }.into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RunsTable(id: ContainerId, runs: Vec<RunSummary>) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p class="muted">"No runs recorded."</p> }.into_any();
    }
    view! {
        <ul class="run-list">
            {runs.into_iter().map(|run| {
                let outcome = match run.outcome.as_deref() {
                    Some("ready") => "finished".to_owned(),
                    Some("error") => "failed".to_owned(),
                    Some(other) => other.to_owned(),
                    None => "running".to_owned(),
                };
                let by = run.started_by.clone().map(|u| format!(" by {u}")).unwrap_or_default();
                view! {
                    <li data-testid="run" data-outcome=run.outcome.clone().unwrap_or_default()>
                        <strong>{format!("Run {}: {}", run.number, run.title())}</strong>
                        " · "{format!("{}{by}", run.started)}" · "{outcome}" · "
                        <a href=format!("/containers/{id}/progress?run={}", run.number)>
                            {format!("Log of run {}", run.number)}
                        </a>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Re-applying the template: choose what to apply, see the changes, confirm, follow the run.
#[component]
pub fn ReapplyTemplate(
    id: ContainerId,
    lifecycle: Lifecycle,
    from_template: bool,
) -> impl IntoView {
    let source = RwSignal::new(if from_template {
        UpdateSource::Template
    } else {
        UpdateSource::Stored
    });
    let message = RwSignal::new(None::<String>);
    let preview = RwSignal::new(None::<UpdatePreview>);
    let show = Action::new_local(move |source: &UpdateSource| preview_update(id, *source));
    let start = Action::new_local(move |source: &UpdateSource| start_update(id, *source));
    let navigate = use_navigate();
    Effect::new(move || match show.value().get() {
        Some(Ok(p)) => preview.set(Some(p)),
        Some(Err(e)) => message.set(Some(e.to_string())),
        None => {}
    });
    Effect::new(move || match start.value().get() {
        Some(Ok(number)) => navigate(
            &format!("/containers/{id}/progress?run={number}"),
            Default::default(),
        ),
        Some(Err(e)) => message.set(Some(e.to_string())),
        None => {}
    });
    let choose = move |s: UpdateSource| {
        source.set(s);
        preview.set(None);
        message.set(None);
    };
    let ready = lifecycle == Lifecycle::Ready;
    view! {
        <section class="card" aria-labelledby="reapply-heading" data-testid="reapply">
            <h2 id="reapply-heading">"Re-apply the template"</h2>
            <p class="muted">
                "Runs deploy, sync and service discovery again on this container: files follow \
                 their policy, missing packages are installed, and every script runs again."
            </p>
            <Show when=move || !ready>
                <p class="muted">"Available once the container is ready."</p>
            </Show>
            <Show when=move || ready>
                <fieldset class="choice-group">
                    <legend>"Apply"</legend>
                    <Show when=move || from_template>
                        <SourceChoice value=UpdateSource::Template source choose />
                    </Show>
                    <SourceChoice value=UpdateSource::Stored source choose />
                </fieldset>
                <ErrorBanner message=message />
                <div class="actions">
                    <button
                        class="button"
                        type="button"
                        disabled=move || show.pending().get()
                        on:click=move |_| {
                            message.set(None);
                            show.dispatch(source.get_untracked());
                        }
                    >
                        "Show changes"
                    </button>
                </div>
                {move || preview.get().map(|p| view! {
                    <ChangesList preview=p />
                    <div class="actions">
                        <button
                            class="button button-primary"
                            type="button"
                            disabled=move || start.pending().get()
                            on:click=move |_| {
                                message.set(None);
                                start.dispatch(source.get_untracked());
                            }
                        >
                            {move || if start.pending().get() { "Starting…" } else { "Re-apply now" }}
                        </button>
                        <button class="button" type="button" on:click=move |_| preview.set(None)>"Not now"</button>
                    </div>
                })}
            </Show>
        </section>
    }
}

/// One radio button of the "Apply" choice.
#[component]
fn SourceChoice(
    value: UpdateSource,
    source: RwSignal<UpdateSource>,
    choose: impl Fn(UpdateSource) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = format!("reapply-{}", value.as_str());
    let label_for = id.clone();
    view! {
        <label for=label_for>
            <input
                id=id
                type="radio"
                name="reapply-source"
                prop:checked=move || source.get() == value
                on:change=move |_| choose(value)
            />
            " "{value.label()}
        </label>
    }
}

/// What the update would change, one line per package, script or file.
#[component]
fn ChangesList(preview: UpdatePreview) -> impl IntoView {
    if preview.changes.is_empty() {
        return view! {
            <p role="status" data-testid="changes">
                "No changes: the same packages, scripts and files are applied again."
            </p>
        }
        .into_any();
    }
    view! {
        <div role="status" data-testid="changes">
            <p>"These changes will be applied:"</p>
            <ul>
                {preview.changes.into_iter().map(|c| view! {
                    <li>{format!("{} {}: {}", capitalised(&c.area), c.name, c.change)}</li>
                }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
