//! The row of five steps above the wizard: which one is current, which are done, and buttons
//! back to any step already reached.

use super::state::{Step, WizardState};
use leptos::prelude::*;

#[component]
pub fn WizardStepper(state: WizardState) -> impl IntoView {
    let items = Step::ALL
        .into_iter()
        .map(|step| {
            let current = move || state.step.get() == step;
            let done = move || step < state.step.get() || step < state.reached.get();
            let reachable = move || step <= state.reached.get() && !current();
            let class = move || {
                if current() {
                    "wizard-step wizard-step-current"
                } else if done() {
                    "wizard-step wizard-step-done"
                } else {
                    "wizard-step"
                }
            };
            let status = move || {
                if current() {
                    " (current step)"
                } else if done() {
                    " (done)"
                } else {
                    ""
                }
            };
            view! {
                <li class=class aria-current=move || current().then_some("step") data-step=step.label()>
                    <button
                        type="button"
                        class="wizard-step-button"
                        disabled=move || !reachable()
                        on:click=move |_| jump(state, step)
                    >
                        <span class="wizard-step-number" aria-hidden="true">
                            {move || if done() && !current() { "✓".to_owned() } else { step.number().to_string() }}
                        </span>
                        <span class="wizard-step-label">{step.label()}</span>
                        <span class="sr-only">{status}</span>
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav aria-label="Wizard steps">
            <ol class="wizard-steps">{items}</ol>
        </nav>
    }
}

/// Goes to a step already reached; going forward checks the current step first, as Next does.
fn jump(state: WizardState, step: Step) {
    let current = state.step.get_untracked();
    if step > current {
        let found = state.check(current);
        if !found.is_empty() {
            state.errors.set(found);
            state.message.set(Some(super::FIX_FIELDS.into()));
            return;
        }
    }
    state.errors.set(Default::default());
    state.go(step);
}
