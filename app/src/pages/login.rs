//! The login page, the one page reachable without a session.

use crate::api::session::login;
use crate::components::field::{ErrorBanner, TextField, error_for};
use crate::error::AppError;
use domain::FieldErrors;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Where to go after logging in: the `next` parameter if it is a path on this site, else `/`.
///
/// Browsers drop tabs and line breaks anywhere in a URL and read `\` as `/`, so `/\t/evil.test`
/// and `/\evil.test` lead off-site: those forms are refused here, and in the browser the result
/// is also parsed against the page's origin and used only when the origin stays the same.
fn safe_next(next: Option<String>) -> String {
    let Some(raw) = next else {
        return "/".into();
    };
    let path: String = raw
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let looks_local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.chars().any(|c| c == '\\' || c.is_control());
    if !looks_local {
        return "/".into();
    }
    same_origin_path(&path).unwrap_or_else(|| "/".into())
}

/// `path` resolved against the page's origin, when it stays on that origin.
#[cfg(target_arch = "wasm32")]
fn same_origin_path(path: &str) -> Option<String> {
    let origin = web_sys::window()?.location().origin().ok()?;
    let url = web_sys::Url::new_with_base(path, &origin).ok()?;
    (url.origin() == origin).then(|| format!("{}{}{}", url.pathname(), url.search(), url.hash()))
}

#[cfg(not(target_arch = "wasm32"))]
fn same_origin_path(path: &str) -> Option<String> {
    Some(path.to_owned())
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
        assert_eq!(
            safe_next(Some("/containers/1?tab=log#end".into())),
            "/containers/1?tab=log#end"
        );
        for offsite in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "\\/evil",
            "/\t/example.com",
            "/\n/example.com",
            "\t//example.com",
            "/\r\n/example.com",
            "javascript:alert(1)",
            " /settings",
            "",
        ] {
            assert_eq!(safe_next(Some(offsite.into())), "/", "{offsite:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
