//! `/users`: every account, for admins: add one (password typed twice, a role), disable or
//! enable, make admin or operator, reset a password; and the latest activity on every
//! container, deleted ones included.

use crate::api::activity::recent_activity;
use crate::api::users::{
    create_user, list_users, reset_user_password, set_user_disabled, set_user_role,
};
use crate::components::account::AdminOnly;
use crate::components::field::{ErrorBanner, TextField, error_for};
use crate::components::form_error::{clear_errors, show_error};
use crate::components::password::NewPasswordFields;
use crate::pages::containers::activity::ActivityList;
use domain::FieldErrors;
use domain::user::{NewUserForm, PasswordForm, Role, UserSummary};
use leptos::prelude::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <AdminOnly title="Users" what="add, disable or reset accounts">
            <UsersAdmin />
        </AdminOnly>
    }
}

/// A change to one account from its row.
#[derive(Clone, Copy)]
enum RowChange {
    Disabled(bool),
    Role(Role),
}

#[component]
fn UsersAdmin() -> impl IntoView {
    let users = LocalResource::new(list_users);
    let activity = LocalResource::new(recent_activity);
    let message = RwSignal::new(None::<String>);
    let resetting = RwSignal::new(None::<UserSummary>);
    let change = Action::new_local(move |(user, what): &(UserSummary, RowChange)| {
        let id = user.id;
        let what = *what;
        async move {
            match what {
                RowChange::Disabled(disabled) => set_user_disabled(id, disabled).await,
                RowChange::Role(role) => set_user_role(id, role).await,
            }
        }
    });
    Effect::new(move || match change.value().get() {
        Some(Ok(_)) => {
            message.set(None);
            users.refetch();
        }
        Some(Err(e)) => message.set(Some(e.to_string())),
        None => {}
    });
    let on_change = Callback::new(move |request: (UserSummary, RowChange)| {
        change.dispatch(request);
    });
    let on_reset = Callback::new(move |user: UserSummary| resetting.set(Some(user)));
    let on_added = Callback::new(move |()| users.refetch());

    view! {
        <h1>"Users"</h1>
        <section class="card" aria-labelledby="users-heading">
            <h2 id="users-heading">"Accounts"</h2>
            <p class="muted">
                "Admins manage nodes, accounts and every container. Operators create and manage "
                "containers, and open only the credentials of containers they created."
            </p>
            <ErrorBanner message=message />
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || users.get().map(|result| match result {
                    Ok(list) => view! {
                        <ul class="node-list" data-testid="user-list">
                            {list.into_iter().map(|user| view! {
                                <UserRow user on_change on_reset busy=change.pending() />
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
        {move || resetting.get().map(|user| view! { <ResetPasswordForm user resetting /> })}
        <AddUserForm on_added />
        <section class="card" aria-labelledby="all-activity-heading">
            <h2 id="all-activity-heading">"Recent activity on every container"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || activity.get().map(|result| match result {
                    Ok(entries) => view! { <ActivityList entries with_container=true /> }.into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// One account: name, role, state, and its buttons (none on one's own row but a note).
#[component]
fn UserRow(
    user: UserSummary,
    on_change: Callback<(UserSummary, RowChange)>,
    on_reset: Callback<UserSummary>,
    busy: Memo<bool>,
) -> impl IntoView {
    let state = if user.disabled { "disabled" } else { "active" };
    let facts = format!("{} · {state} · since {}", user.role.label(), user.created);
    let name = user.username.clone();
    let row_name = name.clone();
    let is_you = user.is_you;
    let (disable_text, disable_to) = if user.disabled {
        ("Enable", false)
    } else {
        ("Disable", true)
    };
    let (role_text, role_to) = match user.role {
        Role::Admin => ("Make operator", Role::Operator),
        Role::Operator => ("Make admin", Role::Admin),
    };
    let for_reset = user.clone();
    let for_changes = user.clone();
    let change_button = move |text: &'static str, change: RowChange| {
        let user = for_changes.clone();
        view! {
            <button class="button" type="button" disabled=move || busy.get()
                on:click=move |_| on_change.run((user.clone(), change))>
                {text}
            </button>
        }
    };
    view! {
        <li class="node-row" data-username=row_name data-role=user.role.as_str() data-state=state>
            <div>
                <strong>{name}</strong>
                {is_you.then_some(" (you)")}
                <div class="muted">{facts}</div>
            </div>
            <div class="actions">
                <Show
                    when=move || !is_you
                    fallback=|| view! { <a href="/account">"Change your password"</a> }
                >
                    {change_button(disable_text, RowChange::Disabled(disable_to))}
                    {change_button(role_text, RowChange::Role(role_to))}
                    <button class="button" type="button"
                        on:click={
                            let user = for_reset.clone();
                            move |_| on_reset.run(user.clone())
                        }>
                        "Reset password"
                    </button>
                </Show>
            </div>
        </li>
    }
}

/// A new password for another account, typed twice; its sessions end.
#[component]
fn ResetPasswordForm(user: UserSummary, resetting: RwSignal<Option<UserSummary>>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::default());
    let message = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let id = user.id;
    let name = user.username.clone();
    let save = Action::new_local(move |_: &()| {
        let form = PasswordForm {
            password: password.get_untracked(),
            confirm: confirm.get_untracked(),
        };
        async move {
            form.validate()?;
            reset_user_password(id, form).await
        }
    });
    let done_name = name.clone();
    Effect::new(move || match save.value().get() {
        Some(Ok(())) => {
            password.set(String::new());
            confirm.set(String::new());
            clear_errors(errors, message);
            done.set(Some(format!(
                "The password of {done_name} was changed; their sessions ended."
            )));
        }
        Some(Err(e)) => {
            done.set(None);
            show_error(e, errors, message);
        }
        None => {}
    });
    view! {
        <section class="card" aria-labelledby="reset-heading">
            <h2 id="reset-heading">{format!("Reset the password of {name}")}</h2>
            <form class="form-grid" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <ErrorBanner message=message />
                <NewPasswordFields ids=("reset_password", "reset_confirm")
                    labels=("New password", "New password again") password confirm errors />
                <div class="form-actions">
                    <button class="button button-primary" type="submit" disabled=move || save.pending().get()>
                        "Set password"
                    </button>
                    <button class="button button-quiet" type="button" on:click=move |_| resetting.set(None)>"Close"</button>
                    <span class="muted" role="status">{move || done.get()}</span>
                </div>
            </form>
        </section>
    }
}

/// "Add user": a name, a password typed twice and a role (operator unless changed).
#[component]
fn AddUserForm(on_added: Callback<()>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Operator.as_str().to_owned());
    let errors = RwSignal::new(FieldErrors::default());
    let message = RwSignal::new(None::<String>);
    let added = RwSignal::new(None::<String>);
    let save = Action::new_local(move |_: &()| {
        let form = NewUserForm {
            username: username.get_untracked(),
            password: password.get_untracked(),
            confirm: confirm.get_untracked(),
            role: role.get_untracked().parse().ok(),
        };
        async move {
            form.validate()?;
            create_user(form).await
        }
    });
    Effect::new(move || match save.value().get() {
        Some(Ok(user)) => {
            username.set(String::new());
            password.set(String::new());
            confirm.set(String::new());
            clear_errors(errors, message);
            added.set(Some(format!(
                "Added {} ({}).",
                user.username,
                user.role.label()
            )));
            on_added.run(());
        }
        Some(Err(e)) => {
            added.set(None);
            show_error(e, errors, message);
        }
        None => {}
    });
    let role_error = error_for(errors, "role");
    view! {
        <section class="card" aria-labelledby="add-user-heading">
            <h2 id="add-user-heading">"Add user"</h2>
            <form class="form-grid" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <ErrorBanner message=message />
                <TextField id="new_username" label="User name" value=username
                    error=error_for(errors, "username") autocomplete="off"
                    hint="Letters, digits, dots, dashes, underscores or @; at most 64." />
                <div class="field" class:field-invalid=move || role_error.with(Option::is_some)>
                    <label for="new_role">"Role"</label>
                    <select id="new_role" name="new_role"
                        prop:value=move || role.get()
                        on:change=move |ev| role.set(event_target_value(&ev))>
                        <option value="operator">"Operator: creates and manages containers"</option>
                        <option value="admin">"Admin: also nodes, accounts and every credential"</option>
                    </select>
                    <Show when=move || role_error.with(Option::is_some)>
                        <p class="field-error" role="alert">{move || role_error.get().unwrap_or_default()}</p>
                    </Show>
                </div>
                <NewPasswordFields ids=("new_password", "new_confirm")
                    labels=("Password", "Password again") password confirm errors />
                <div class="form-actions">
                    <button class="button button-primary" type="submit" disabled=move || save.pending().get()>
                        "Add user"
                    </button>
                    <span class="muted" role="status">{move || added.get()}</span>
                </div>
            </form>
        </section>
    }
}
