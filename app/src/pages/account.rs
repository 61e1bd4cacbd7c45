//! `/account`: the signed-in user's own account: their role, and changing their password (the
//! current one, then the new one typed twice). Their other sessions end; this one stays.

use crate::api::users::change_own_password;
use crate::components::account::SignedIn;
use crate::components::field::{ErrorBanner, TextField, error_for};
use crate::components::form_error::{clear_errors, show_error};
use crate::components::password::NewPasswordFields;
use domain::FieldErrors;
use domain::user::ChangePasswordForm;
use leptos::prelude::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = use_context::<SignedIn>();
    let who = move || {
        account
            .and_then(|SignedIn(user)| user.get())
            .map(|user| format!("Signed in as {} ({}).", user.username, user.role.label()))
    };
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::default());
    let message = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let save = Action::new_local(move |_: &()| {
        let form = ChangePasswordForm {
            current_password: current.get_untracked(),
            new_password: new_password.get_untracked(),
            confirm: confirm.get_untracked(),
        };
        async move {
            form.validate()?;
            change_own_password(form).await
        }
    });
    Effect::new(move || match save.value().get() {
        Some(Ok(())) => {
            for field in [current, new_password, confirm] {
                field.set(String::new());
            }
            clear_errors(errors, message);
            done.set(Some(
                "Your password was changed. Your other sessions were ended.".into(),
            ));
        }
        Some(Err(e)) => {
            done.set(None);
            show_error(e, errors, message);
        }
        None => {}
    });
    view! {
        <h1>"Account"</h1>
        <p class="muted" data-testid="account-who">{who}</p>
        <section class="card narrow" aria-labelledby="password-heading">
            <h2 id="password-heading">"Change password"</h2>
            <form class="form-stack" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <ErrorBanner message=message />
                <TextField id="current_password" label="Current password" value=current
                    error=error_for(errors, "current_password") input_type="password"
                    autocomplete="current-password" />
                <NewPasswordFields ids=("new_password", "confirm")
                    labels=("New password", "New password again") password=new_password confirm
                    errors password_key="new_password" />
                <div class="form-actions">
                    <button class="button button-primary" type="submit" disabled=move || save.pending().get()>
                        "Change password"
                    </button>
                </div>
                <p class="banner banner-ok" role="status" hidden=move || done.with(Option::is_none)>
                    {move || done.get()}
                </p>
            </form>
        </section>
    }
}
