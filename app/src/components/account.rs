//! The signed-in account as the pages see it: the shell provides it, and [`AdminOnly`] shows a
//! page's content to admins only (the server refuses operators all the same).

use crate::api::session::SignedInUser;
use leptos::prelude::*;

/// The signed-in account, provided by the shell once it is known.
#[derive(Clone, Copy)]
pub struct SignedIn(pub Signal<Option<SignedInUser>>);

/// Whether the signed-in account is an admin (false while it is not known).
pub fn is_admin() -> Signal<bool> {
    let account = use_context::<SignedIn>();
    Signal::derive(move || {
        account
            .and_then(|SignedIn(user)| user.get())
            .is_some_and(|user| user.is_admin())
    })
}

/// Its children for admins; for an operator, the page's `title` and "Only admins can `what`."
#[component]
pub fn AdminOnly(title: &'static str, what: &'static str, children: ChildrenFn) -> impl IntoView {
    let admin = is_admin();
    view! {
        <Show
            when=move || admin.get()
            fallback=move || view! {
                <h1>{title}</h1>
                <p class="banner banner-warn" role="alert" data-testid="admins-only">
                    {format!("Only admins can {what}. Ask an admin if you need this changed.")}
                </p>
            }
        >
            {children()}
        </Show>
    }
}
