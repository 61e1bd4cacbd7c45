//! "Generate" in the wizard's Access group: a strong random root password in both fields,
//! shown once so the user can copy it (infrahaus erases it once the container exists).

use super::state::WizardState;
use leptos::prelude::*;

/// What to do when the browser refuses the clipboard.
const COPY_REFUSED: &str = "The browser refused the clipboard; select the password and copy it.";

#[component]
pub fn GeneratePassword(state: WizardState) -> impl IntoView {
    let shown = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<String>);
    let generate = move |_| match random_password() {
        Some(password) => {
            state.root_password.set(password.clone());
            state.root_password_confirm.set(password.clone());
            shown.set(Some(password));
            note.set(None);
        }
        None => note.set(Some(
            "This browser has no secure random source; type a password instead.".into(),
        )),
    };
    // Typing over a generated password hides it: what is shown is always what will be used.
    Effect::new(move || {
        let typed = state.root_password.get();
        if shown.get_untracked().is_some_and(|p| p != typed) {
            shown.set(None);
        }
    });
    let copy = move |_| {
        if let Some(password) = shown.get_untracked() {
            crate::components::clipboard::copy(password, note, COPY_REFUSED);
        }
    };
    view! {
        <div class="generate-password">
            <button class="button" type="button" on:click=generate>"Generate"</button>
            <Show when=move || shown.get().is_some()>
                <span class="generated">
                    <label for="generated_password">"Generated password"</label>
                    <output id="generated_password" class="code">{move || shown.get().unwrap_or_default()}</output>
                    <button class="button" type="button" on:click=copy>"Copy"</button>
                </span>
                <p class="field-hint">"Shown once: copy it now. infrahaus keeps it only until the container exists."</p>
            </Show>
            <span class="muted" role="status">{move || note.get()}</span>
        </div>
    }
}

/// A password from the browser's CSPRNG (`crypto.getRandomValues`).
fn random_password() -> Option<String> {
    let crypto = web_sys::window()?.crypto().ok()?;
    let mut bytes = [0u8; domain::spec::GENERATED_PASSWORD_LEN * 4];
    crypto.get_random_values_with_u8_array(&mut bytes).ok()?;
    domain::spec::password_from_random(&bytes)
}
