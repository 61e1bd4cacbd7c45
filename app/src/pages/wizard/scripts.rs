//! Step 4: the template's setup scripts in run order; each can be turned off or moved.

use super::state::{ScriptChoice, WizardState};
use leptos::prelude::*;

#[component]
pub fn ScriptsStep(state: WizardState) -> impl IntoView {
    let enabled = move || {
        state
            .scripts
            .with(|list| list.iter().filter(|c| c.script.enabled).count())
    };
    let files = move || state.files.with(Vec::len);
    view! {
        <section class="card wizard-panel" aria-labelledby="step-heading">
            <h2 id="step-heading" tabindex="-1">"4. Setup scripts"</h2>
            <p class="muted" data-testid="script-count">
                {move || format!(
                    "{} of {} scripts will run, top to bottom, after the packages are installed.",
                    enabled(),
                    state.scripts.with(Vec::len),
                )}
            </p>
            <Show
                when=move || !state.scripts.with(Vec::is_empty)
                fallback=|| view! { <p class="muted">"This template has no setup scripts."</p> }
            >
                <ol class="wizard-scripts" data-testid="wizard-scripts">
                    <For each=move || state.scripts.get() key=|c| (c.key, c.script.enabled) let:choice>
                        <ScriptRow choice state />
                    </For>
                </ol>
            </Show>
            <Show when=move || { files() > 0 }>
                <p class="muted">{move || format!("The template also writes {} file(s) into the container.", files())}</p>
            </Show>
        </section>
    }
}

/// One script: its tick box, description, content on demand, and Move up / Move down.
#[component]
fn ScriptRow(choice: ScriptChoice, state: WizardState) -> impl IntoView {
    let key = choice.key;
    let name = choice.script.name.clone();
    let id = format!("script-{key}");
    let index = Memo::new(move |_| {
        state
            .scripts
            .with(|l| l.iter().position(|c| c.key == key))
            .unwrap_or(0)
    });
    let count = move || state.scripts.with(Vec::len);
    let shift = move |up: bool| {
        let i = index.get_untracked();
        let j = if up { i.checked_sub(1) } else { Some(i + 1) };
        if let Some(j) = j.filter(|j| *j < count()) {
            state.scripts.update(|l| l.swap(i, j));
            state.errors.set(Default::default());
        }
    };
    let toggle = move |ev| {
        let on = event_target_checked(&ev);
        state.scripts.update(|l| {
            if let Some(c) = l.iter_mut().find(|c| c.key == key) {
                c.script.enabled = on;
            }
        });
    };
    let error = Signal::derive(move || {
        let i = index.get();
        state.errors.with(|e| {
            e.get(&format!("scripts.{i}.name"))
                .or_else(|| e.get(&format!("scripts.{i}.content")))
                .map(str::to_owned)
        })
    });
    let (up_label, down_label) = (format!("Move {name} up"), format!("Move {name} down"));
    view! {
        <li class="wizard-script" class:wizard-script-off=!choice.script.enabled class:field-invalid=move || error.with(Option::is_some)>
            <div class="wizard-script-head">
                <span class="wizard-script-position" aria-hidden="true">{move || index.get() + 1}</span>
                <label class="radio" for=id.clone()>
                    <input type="checkbox" id=id.clone() prop:checked=choice.script.enabled on:change=toggle />
                    <span><code>{name.clone()}</code>{(!choice.script.enabled).then_some(" (skipped)")}</span>
                </label>
                <div class="row-buttons">
                    <button type="button" class="button button-small" aria-label=up_label
                        disabled=move || index.get() == 0 on:click=move |_| shift(true)>"Move up"</button>
                    <button type="button" class="button button-small" aria-label=down_label
                        disabled=move || { index.get() + 1 >= count() } on:click=move |_| shift(false)>"Move down"</button>
                </div>
            </div>
            {(!choice.script.description.is_empty()).then(|| view! { <p class="muted">{choice.script.description.clone()}</p> })}
            <details>
                <summary>"Show the script"</summary>
                <pre class="code-block">{choice.script.content.clone()}</pre>
            </details>
            <Show when=move || error.with(Option::is_some)>
                <p class="field-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
        </li>
    }
}
