//! What a finished container offers: its services with links and ports, and its credentials,
//! hidden until "Show", each with a "Copy" button.

use crate::api::containers::reveal_credential;
use domain::ContainerId;
use domain::container::ServiceInfo;
use leptos::prelude::*;

/// What to do when the browser refuses the clipboard.
const COPY_REFUSED: &str =
    "The browser refused the clipboard; use Show and copy the value by hand.";

#[component]
pub fn ServicesList(services: Vec<ServiceInfo>) -> impl IntoView {
    if services.is_empty() {
        return view! { <p class="muted">"No listening services were found."</p> }.into_any();
    }
    view! {
        <ul class="plain-list service-list" data-testid="services">
            {services.into_iter().map(|s| {
                let port = s.port.map(|p| format!("{p}/{}", s.protocol)).unwrap_or_else(|| "no port".into());
                view! {
                    <li class="service">
                        <strong>{s.name.clone()}</strong>
                        <span class="muted">{port}</span>
                        {s.url.map(|url| view! {
                            <a href=url.clone() target="_blank" rel="noopener noreferrer">{format!("Open {url}")}</a>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn CredentialsList(container: ContainerId, names: Vec<String>) -> impl IntoView {
    if names.is_empty() {
        return view! { <p class="muted">"The templates' scripts left no credentials."</p> }
            .into_any();
    }
    view! {
        <ul class="plain-list credential-list" data-testid="credentials">
            {names.into_iter().map(|name| view! { <CredentialRow container name /> }).collect_view()}
        </ul>
    }
    .into_any()
}

/// One credential: its name, the value once revealed, Show/Hide and Copy.
#[component]
fn CredentialRow(container: ContainerId, name: String) -> impl IntoView {
    let value = RwSignal::new(None::<String>);
    let shown = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    let reveal_name = name.clone();
    // `then_copy`: copy the value once it is known.
    let reveal = Action::new_local(move |then_copy: &bool| {
        let name = reveal_name.clone();
        let then_copy = *then_copy;
        async move { (reveal_credential(container, name).await, then_copy) }
    });
    Effect::new(move || match reveal.value().get() {
        Some((Ok(credential), then_copy)) => {
            value.set(Some(credential.value.clone()));
            if then_copy {
                crate::components::clipboard::copy(credential.value, note, COPY_REFUSED);
            } else {
                shown.set(true);
            }
        }
        Some((Err(e), _)) => note.set(Some(e.to_string())),
        None => {}
    });
    let toggle = move |_| {
        if shown.get_untracked() {
            shown.set(false);
        } else if value.with_untracked(Option::is_some) {
            shown.set(true);
        } else {
            reveal.dispatch(false);
        }
    };
    let copy_click = move |_| match value.get_untracked() {
        Some(v) => crate::components::clipboard::copy(v, note, COPY_REFUSED),
        None => {
            reveal.dispatch(true);
        }
    };
    let id = format!("credential-{name}");
    view! {
        <li class="credential" data-credential=name.clone()>
            <span class="credential-name" id=id.clone()>{name.clone()}</span>
            <code class="credential-value" aria-labelledby=id data-testid="credential-value">
                {move || if shown.get() { value.get().unwrap_or_default() } else { "••••••••".into() }}
            </code>
            <span class="actions">
                <button class="button" type="button" on:click=toggle disabled=move || reveal.pending().get()>
                    {move || if shown.get() { "Hide" } else { "Show" }}
                </button>
                <button class="button" type="button" on:click=copy_click>"Copy"</button>
                <span class="muted" role="status">{move || note.get()}</span>
            </span>
        </li>
    }
}
