//! The container list (placeholder until its issue lands).

use leptos::prelude::*;

#[component]
pub fn ContainersPage() -> impl IntoView {
    view! { <h1>"Containers"</h1> <p class="muted">"Coming soon."</p> }
}
