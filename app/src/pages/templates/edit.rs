//! The template create and edit form (placeholder until its issue lands).

use leptos::prelude::*;

#[component]
pub fn TemplateEditPage() -> impl IntoView {
    view! { <h1>"Edit template"</h1> <p class="muted">"Coming soon."</p> }
}
