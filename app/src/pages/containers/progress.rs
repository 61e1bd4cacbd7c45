//! The live progress page (placeholder until its issue lands).

use leptos::prelude::*;

#[component]
pub fn ProgressPage() -> impl IntoView {
    view! { <h1>"Progress"</h1> <p class="muted">"Coming soon."</p> }
}
