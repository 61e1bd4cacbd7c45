//! The buttons that change a container: start, shut down, stop, retry a failed creation, and a
//! confirmed delete. Each reports its error next to the buttons.

use crate::api::containers::{PowerAction, delete_container, power_container, retry_container};
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
) -> impl IntoView {
    let message = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let navigate = use_navigate();

    let power = Action::new_local(move |action: &PowerAction| power_container(id, *action));
    Effect::new(move || match power.value().get() {
        Some(Ok(())) => {
            message.set(None);
            done.set(Some("Done.".into()));
            on_changed.run(());
        }
        Some(Err(e)) => message.set(Some(e.to_string())),
        None => {}
    });
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
    let power_button = move |action: PowerAction| {
        view! {
            <button
                class="button"
                type="button"
                disabled=busy
                on:click=move |_| {
                    done.set(None);
                    power.dispatch(action);
                }
            >
                {action.label()}
            </button>
        }
    };
    let ready = lifecycle == Lifecycle::Ready;
    let failed = lifecycle == Lifecycle::Error;
    let creating = lifecycle == Lifecycle::Creating;

    view! {
        <div class="container-actions">
            <ErrorBanner message=message />
            <div class="actions">
                <Show when=move || show_power && ready>
                    {power_button(PowerAction::Start)}
                    {power_button(PowerAction::Shutdown)}
                    {power_button(PowerAction::Stop)}
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
