//! The template list (placeholder until its issue lands).

use leptos::prelude::*;

#[component]
pub fn TemplatesPage() -> impl IntoView {
    view! { <h1>"Templates"</h1> <p class="muted">"Coming soon."</p> }
}
