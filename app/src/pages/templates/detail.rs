//! One template's detail (placeholder until its issue lands).

use leptos::prelude::*;

#[component]
pub fn TemplateDetailPage() -> impl IntoView {
    view! { <h1>"Template"</h1> <p class="muted">"Coming soon."</p> }
}
