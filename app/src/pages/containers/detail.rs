//! One container's page (placeholder until its issue lands).

use leptos::prelude::*;

#[component]
pub fn ContainerDetailPage() -> impl IntoView {
    view! { <h1>"Container"</h1> <p class="muted">"Coming soon."</p> }
}
