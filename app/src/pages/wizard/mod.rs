//! The five-step create-container wizard at `/containers/new`.

use leptos::prelude::*;

#[component]
pub fn WizardPage() -> impl IntoView {
    view! { <h1>"Create container"</h1> <p class="muted">"Coming soon."</p> }
}
