//! The buttons that change a container: start, shut down, restart, stop (the ones that interrupt
//! it confirmed first, each shown only when it fits the node's view: no Start on a running
//! container), retry a failed creation, and a confirmed delete. A shutdown that does not finish
//! offers Stop. Each reports its error next to the buttons.

use crate::api::containers::{PowerAction, delete_container, power_container, retry_container};
use crate::api::status::NodeView;
use crate::components::field::ErrorBanner;
use domain::ContainerId;
use domain::container::Lifecycle;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn ContainerActions(
    id: ContainerId,
    lifecycle: Lifecycle,
    /// Runs after a power action or a retry succeeded.
    on_changed: Callback<()>,
    #[prop(default = true)] show_power: bool,
    /// The node's view of the container; power buttons show only once it is known.
    #[prop(optional, into)]
    node_view: Option<Signal<Option<NodeView>>>,
) -> impl IntoView {
    let message = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let confirming_power = RwSignal::new(None::<PowerAction>);
    let last_power = RwSignal::new(None::<PowerAction>);
    let offer_stop = RwSignal::new(false);
    let navigate = use_navigate();

    let power = Action::new_local(move |action: &PowerAction| power_container(id, *action));
    Effect::new(move || match power.value().get() {
        Some(Ok(())) => {
            message.set(None);
            offer_stop.set(false);
            done.set(Some("Done.".into()));
            on_changed.run(());
        }
        Some(Err(e)) => {
            message.set(Some(e.to_string()));
            offer_stop.set(last_power.get_untracked() == Some(PowerAction::Shutdown));
        }
        None => {}
    });
    let run_power = move |action: PowerAction| {
        confirming_power.set(None);
        offer_stop.set(false);
        done.set(None);
        last_power.set(Some(action));
        power.dispatch(action);
    };
    let retry = Action::new_local(move |_: &()| retry_container(id));
    Effect::new(move || match retry.value().get() {
        Some(Ok(())) => {
            message.set(None);
            on_changed.run(());
        }
        Some(Err(e)) => message.set(Some(e.to_string())),
        None => {}
    });
    let remove = Action::new_local(move |_: &()| delete_container(id));
    Effect::new(move || match remove.value().get() {
        Some(Ok(())) => navigate("/containers", Default::default()),
        Some(Err(e)) => {
            confirming.set(false);
            message.set(Some(e.to_string()));
        }
        None => {}
    });
    let busy = move || power.pending().get() || retry.pending().get() || remove.pending().get();
    let ready = lifecycle == Lifecycle::Ready;
    let failed = lifecycle == Lifecycle::Error;
    let creating = lifecycle == Lifecycle::Creating;
    // Whether the container runs, once the node said so.
    let running = move || match node_view.and_then(|view| view.get()) {
        Some(NodeView::Running(_)) => Some(true),
        Some(NodeView::Stopped) => Some(false),
        _ => None,
    };
    let power_button = move |action: PowerAction| {
        let shown = move || {
            show_power
                && ready
                && confirming_power.get().is_none()
                && running().is_some_and(|r| action.applies_when_running(r))
        };
        view! {
            <Show when=shown>
                <button
                    class="button"
                    type="button"
                    disabled=busy
                    on:click=move |_| {
                        if action.needs_confirmation() {
                            message.set(None);
                            confirming_power.set(Some(action));
                        } else {
                            run_power(action);
                        }
                    }
                >
                    {action.label()}
                </button>
            </Show>
        }
    };

    view! {
        <div class="container-actions">
            <ErrorBanner message=message />
            <div class="actions">
                {power_button(PowerAction::Start)}
                {power_button(PowerAction::Shutdown)}
                {power_button(PowerAction::Restart)}
                {power_button(PowerAction::Stop)}
                {move || confirming_power.get().map(|action| view! {
                    <span role="alert">{power_question(action)}</span>
                    <button class="button button-danger" type="button" disabled=busy on:click=move |_| run_power(action)>
                        {power_confirmation(action)}
                    </button>
                    <button class="button" type="button" on:click=move |_| confirming_power.set(None)>"No, leave it"</button>
                })}
                <Show when=move || offer_stop.get() && !busy()>
                    <button class="button button-danger" type="button" on:click=move |_| run_power(PowerAction::Stop)>
                        "Stop it now"
                    </button>
                </Show>
                <Show when=move || failed>
                    <button class="button button-primary" type="button" disabled=busy on:click=move |_| { retry.dispatch(()); }>
                        "Retry creation"
                    </button>
                </Show>
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button
                            class="button button-danger"
                            type="button"
                            disabled=move || busy() || creating
                            title=move || creating.then_some("A container can be deleted once its creation has finished or failed.")
                            on:click=move |_| confirming.set(true)
                        >
                            "Delete container"
                        </button>
                    }
                >
                    <span role="alert">"Delete this container from Proxmox and from infrahaus?"</span>
                    <button class="button button-danger" type="button" disabled=busy on:click=move |_| { remove.dispatch(()); }>
                        {move || if remove.pending().get() { "Deleting…" } else { "Yes, delete it" }}
                    </button>
                    <button class="button" type="button" on:click=move |_| confirming.set(false)>"Keep it"</button>
                </Show>
                <span class="muted" role="status">
                    {move || if power.pending().get() { Some("Waiting for Proxmox…".to_owned()) } else { done.get() }}
                </span>
            </div>
        </div>
    }
}

/// What the confirmation of a power action asks.
fn power_question(action: PowerAction) -> &'static str {
    match action {
        PowerAction::Shutdown => {
            "Shut this container down? Its services stop; Proxmox waits up to a minute for a \
             clean shutdown."
        }
        PowerAction::Restart => "Restart this container? Its services stop for a moment.",
        PowerAction::Stop => {
            "Stop this container at once? Its processes are killed without a clean shutdown."
        }
        PowerAction::Start => "Start this container?",
    }
}

/// The button that confirms a power action.
fn power_confirmation(action: PowerAction) -> &'static str {
    match action {
        PowerAction::Shutdown => "Yes, shut down",
        PowerAction::Restart => "Yes, restart",
        PowerAction::Stop => "Yes, stop it",
        PowerAction::Start => "Yes, start",
    }
}
