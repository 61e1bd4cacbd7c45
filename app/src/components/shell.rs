//! The frame around every signed-in page: top bar, navigation (Users and Settings for admins
//! only), the account link, log out. Sends a visitor without a session to the login page, and
//! provides the signed-in account ([`SignedIn`]) to the pages.

use crate::api::session::{logout, who_am_i};
use crate::components::account::{SignedIn, is_admin};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_location;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// Goes to the login page with a full page load, remembering where the user was.
pub fn go_to_login(next: &str) {
    let target = if next.is_empty() || next == "/" {
        "/login".to_owned()
    } else {
        format!(
            "/login?next={}",
            utf8_percent_encode(next, NON_ALPHANUMERIC)
        )
    };
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(&target);
    }
}

/// How often the shell asks again while the server cannot check the session.
const OUTAGE_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

#[component]
pub fn Shell() -> impl IntoView {
    let user = LocalResource::new(who_am_i);
    let location = use_location();
    Effect::new(move || match user.get() {
        Some(Err(AppError::Unauthorized)) => {
            let here = location.pathname.get_untracked() + &location.search.get_untracked();
            go_to_login(&here);
        }
        // An outage is not a logout: stay on this page and ask again shortly.
        Some(Err(AppError::Unavailable(_) | AppError::Transport(_))) => {
            set_timeout(move || user.refetch(), OUTAGE_RETRY);
        }
        _ => {}
    });
    let log_out = Action::new_local(|_: &()| logout());
    Effect::new(move || {
        if log_out.value().get().is_some() {
            go_to_login("/");
        }
    });
    provide_context(SignedIn(Signal::derive(move || {
        user.get().and_then(Result::ok)
    })));
    let admin = is_admin();
    let username = move || {
        user.get()
            .and_then(Result::ok)
            .map(|u| u.username)
            .unwrap_or_default()
    };

    view! {
        <header class="topbar">
            <a class="brand" href="/">"infrahaus"</a>
            <nav class="mainnav" aria-label="Main">
                <A href="/" exact=true>"Dashboard"</A>
                <A href="/containers">"Containers"</A>
                <A href="/templates">"Templates"</A>
                <A href="/buckets">"Buckets"</A>
                <Show when=move || admin.get()>
                    <A href="/users">"Users"</A>
                    <A href="/settings">"Settings"</A>
                </Show>
            </nav>
            <div class="session">
                <span class="username" data-testid="signed-in-user">{username}</span>
                <A href="/account">"Account"</A>
                <button class="button button-quiet" on:click=move |_| { log_out.dispatch(()); }>
                    "Log out"
                </button>
            </div>
        </header>
        <main class="content">
            {move || match user.get() {
                Some(Ok(_)) => view! { <Outlet /> }.into_any(),
                Some(Err(AppError::Unauthorized)) | None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e @ (AppError::Unavailable(_) | AppError::Transport(_)))) => view! {
                    <div class="banner banner-error" role="alert" data-testid="outage-banner">
                        <p>{e.to_string()}</p>
                        <p>"You are still logged in. This page reloads by itself when the server is back."</p>
                    </div>
                }.into_any(),
                Some(Err(e)) => view! { <div class="banner banner-error" role="alert">{e.to_string()}</div> }.into_any(),
            }}
        </main>
    }
}
