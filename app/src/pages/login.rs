//! The login page, the one page reachable without a session.

use crate::api::session::login;
use crate::components::field::{ErrorBanner, TextField, error_for};
use crate::error::AppError;
use domain::FieldErrors;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Where to go after logging in: the `next` parameter if it is a path on this site.
fn safe_next(next: Option<String>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/".into(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::default());
    let message = RwSignal::new(None::<String>);
    let query = use_query_map();

    let submit =
        Action::new_local(move |_: &()| login(username.get_untracked(), password.get_untracked()));
    Effect::new(move || match submit.value().get() {
        Some(Ok(_)) => {
            let next = safe_next(query.with_untracked(|q| q.get("next")));
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href(&next);
            }
        }
        Some(Err(AppError::Invalid(fields))) => {
            errors.set(fields);
            message.set(None);
        }
        Some(Err(e)) => {
            errors.set(FieldErrors::default());
            password.set(String::new());
            message.set(Some(e.to_string()));
        }
        None => {}
    });

    view! {
        <main class="login">
            <form
                class="card login-card"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit.dispatch(());
                }
            >
                <h1>"infrahaus"</h1>
                <p class="muted">"Log in to manage your Proxmox containers."</p>
                <ErrorBanner message=message />
                <TextField id="username" label="User name" value=username error=error_for(errors, "username") autocomplete="username" />
                <TextField
                    id="password"
                    label="Password"
                    value=password
                    error=error_for(errors, "password")
                    input_type="password"
                    autocomplete="current-password"
                />
                <button class="button button-primary" type="submit" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { "Logging in…" } else { "Log in" }}
                </button>
            </form>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/settings".into())), "/settings");
        assert_eq!(safe_next(Some("//evil.example".into())), "/");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/");
        assert_eq!(safe_next(Some("/\\evil".into())), "/");
        assert_eq!(safe_next(None), "/");
    }
}
