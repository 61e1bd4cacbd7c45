//! Package buckets (placeholder until its issue lands).

use leptos::prelude::*;

#[component]
pub fn BucketsPage() -> impl IntoView {
    view! { <h1>"Package buckets"</h1> <p class="muted">"Coming soon."</p> }
}
