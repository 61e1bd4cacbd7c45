//! The five creation phases with an icon and a word for each one's state, the overall percent
//! bar, and the running script during Sync.

use super::stream::{Progress, StreamStatus};
use domain::container::Phase;
use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
enum StepState {
    Waiting,
    Running,
    Done,
    Failed,
}

impl StepState {
    fn of(phase: Phase, current: Option<Phase>, status: StreamStatus) -> StepState {
        let index = |p: Phase| Phase::ALL.iter().position(|q| *q == p).unwrap_or(0);
        if status == StreamStatus::Complete {
            return StepState::Done;
        }
        let Some(current) = current else {
            return StepState::Waiting;
        };
        match index(phase).cmp(&index(current)) {
            std::cmp::Ordering::Less => StepState::Done,
            std::cmp::Ordering::Greater => StepState::Waiting,
            std::cmp::Ordering::Equal if status == StreamStatus::Failed => StepState::Failed,
            std::cmp::Ordering::Equal => StepState::Running,
        }
    }

    /// Class, icon, and the word screen readers and the tooltip get.
    fn look(self) -> (&'static str, &'static str, &'static str) {
        match self {
            StepState::Waiting => ("step step-waiting", "○", "waiting"),
            StepState::Running => ("step step-running", "◔", "in progress"),
            StepState::Done => ("step step-done", "✓", "done"),
            StepState::Failed => ("step step-failed", "✕", "failed"),
        }
    }
}

#[component]
pub fn Stepper(progress: Progress) -> impl IntoView {
    let steps = Phase::ALL
        .iter()
        .map(|&phase| {
            let state = move || StepState::of(phase, progress.phase.get(), progress.status.get());
            view! {
                <li
                    class=move || state().look().0
                    aria-current=move || (state() == StepState::Running).then_some("step")
                    data-phase=phase.as_str()
                >
                    <span class="step-icon" aria-hidden="true">{move || state().look().1}</span>
                    <span class="step-label">{phase.label()}</span>
                    <span class="sr-only">{move || format!(" ({})", state().look().2)}</span>
                </li>
            }
        })
        .collect_view();
    let script = move || {
        let in_sync = progress.phase.get() == Some(Phase::Sync)
            && matches!(
                progress.status.get(),
                StreamStatus::Streaming | StreamStatus::Connecting
            );
        progress
            .script
            .get()
            .filter(|_| in_sync)
            .map(|s| format!("Script {} of {}: {}", s.index, s.total, s.name))
    };
    view! {
        <ol class="stepper" aria-label="Creation phases">{steps}</ol>
        <div class="percent">
            <label for="creation-progress">"Overall progress"</label>
            <progress id="creation-progress" max="100" value=move || progress.percent.get().to_string()>
                {move || format!("{}%", progress.percent.get())}
            </progress>
            <span data-testid="percent">{move || format!("{}%", progress.percent.get())}</span>
        </div>
        <p class="script-progress" data-testid="script-progress">{script}</p>
    }
}
