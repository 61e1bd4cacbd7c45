//! Copying text to the clipboard from a button.

use leptos::prelude::*;

/// Puts `text` on the clipboard and says in `note` whether it worked; `fallback` tells the user
/// what to do when the browser refuses.
pub fn copy(text: String, note: RwSignal<Option<String>>, fallback: &'static str) {
    use wasm_bindgen::JsValue;
    use wasm_bindgen::closure::Closure;
    let Some(window) = web_sys::window() else {
        return;
    };
    let promise = window.navigator().clipboard().write_text(&text);
    let done = Closure::<dyn FnMut(JsValue)>::once(move |_: JsValue| {
        note.set(Some("Copied.".into()));
    });
    let failed = Closure::<dyn FnMut(JsValue)>::once(move |_: JsValue| {
        note.set(Some(fallback.into()));
    });
    let _ = promise.then2(&done, &failed);
    // Each runs at most once, when the browser settles the promise; a copy click is rare.
    done.forget();
    failed.forget();
}
