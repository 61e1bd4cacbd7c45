use leptos::prelude::*;

/// Shown for an address the app does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <main class="content narrow">
            <h1>"Page not found"</h1>
            <p><a href="/">"Go to the dashboard"</a></p>
        </main>
    }
}
