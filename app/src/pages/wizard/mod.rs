//! The five-step create-container wizard at `/containers/new`: Template → Configure →
//! Packages → Scripts → Review. Everything entered lives in [`state::WizardState`], so Back and
//! the stepper keep it; each step runs its checks from `domain::spec` before Next, and Deploy
//! sends the whole form to [`create_container`], which checks it all again.

mod configure;
mod fields;
mod packages;
mod password;
mod review;
mod scripts;
pub mod state;
mod stepper;
mod template_step;

use crate::api::create::create_container;
use crate::api::nodes::list_nodes;
use crate::api::resources::{NodeResources, check_vmid, get_node_resources};
use crate::components::field::ErrorBanner;
use crate::error::AppError;
use configure::ConfigureStep;
use domain::spec::CreateContainerForm;
use domain::{FieldErrors, NodeId};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use packages::PackagesStep;
use review::ReviewStep;
use scripts::ScriptsStep;
use state::{Step, WizardState};
use stepper::WizardStepper;
use template_step::TemplateStep;

/// The banner shown while fields are marked.
pub(crate) const FIX_FIELDS: &str = "Please correct the marked fields.";

#[component]
pub fn WizardPage() -> impl IntoView {
    let state = WizardState::new();
    let nodes = LocalResource::new(list_nodes);
    let lists = LocalResource::new(move || {
        let node = state.node_id.get();
        async move {
            match node.parse::<NodeId>() {
                Ok(id) => Some(get_node_resources(id).await),
                Err(_) => None,
            }
        }
    });
    // "Create another like this": `?like=CONTAINER` fills every step from that container.
    let query = leptos_router::hooks::use_query_map();
    if let Some(like) = query.with_untracked(|q| q.get("like")) {
        match like.parse::<domain::ContainerId>() {
            Ok(id) => {
                leptos::task::spawn_local(async move {
                    match crate::api::containers::get_container(id).await {
                        Ok(detail) => match detail.spec {
                            Some(spec) => state.copy_from(&spec),
                            None => state.message.set(Some(
                                "That container's settings cannot be read; start from a template."
                                    .into(),
                            )),
                        },
                        Err(e) => state
                            .message
                            .set(Some(format!("Cannot copy that container: {e}"))),
                    }
                });
            }
            Err(_) => state
                .message
                .set(Some("The container to copy is not a container id.".into())),
        }
    }
    // One node: choose it.
    Effect::new(move || {
        if let Some(Ok(list)) = nodes.get()
            && let [only] = list.as_slice()
            && state.node_id.get_untracked().is_empty()
        {
            state.node_id.set(only.id.to_string());
        }
    });
    // The node's lists fill the VMID, storage, bridge and OS template when they arrive, and
    // again after a template is picked, since its defaults replace storage, bridge and OS.
    Effect::new(move || {
        state.origin.track();
        if let Some(Some(Ok(found))) = lists.get() {
            fill_from_node(state, &found);
        }
    });
    // Editing a field takes its error away; the banner goes with the last one.
    for (input, keys) in state.inputs() {
        Effect::new(move |seen: Option<()>| {
            input.track();
            if seen.is_some()
                && state
                    .errors
                    .with_untracked(|e| keys.iter().any(|k| e.get(k).is_some()))
            {
                state
                    .errors
                    .update(|e| e.0.retain(|k, _| !keys.contains(&k.as_str())));
            }
        });
    }
    Effect::new(move || {
        if state.errors.with(FieldErrors::is_empty)
            && state
                .message
                .with_untracked(|m| m.as_deref() == Some(FIX_FIELDS))
        {
            state.message.set(None);
        }
    });
    // Each step starts at the top of the page, its heading focused for screen readers.
    Effect::new(move |seen: Option<()>| {
        state.step.track();
        if let Some(window) = web_sys::window() {
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
        if seen.is_some() {
            focus_step_heading();
        }
    });

    let vmid_check = Action::new_local(|(node, vmid): &(NodeId, u32)| check_vmid(*node, *vmid));
    Effect::new(move || match vmid_check.value().get() {
        Some(Ok(status)) if status.free => state.go(Step::Packages),
        Some(Ok(status)) => {
            let mut e = FieldErrors::new();
            e.add("vmid", status.reason.unwrap_or_default());
            state.errors.set(e);
            state.message.set(Some(FIX_FIELDS.into()));
        }
        Some(Err(AppError::Invalid(fields))) => {
            state.errors.set(fields);
            state.message.set(Some(FIX_FIELDS.into()));
        }
        Some(Err(e)) => state.message.set(Some(e.to_string())),
        None => {}
    });

    let deploy = Action::new_local(|form: &CreateContainerForm| create_container(form.clone()));
    let navigate = use_navigate();
    Effect::new(move || match deploy.value().get() {
        Some(Ok(id)) => navigate(&format!("/containers/{id}/progress"), Default::default()),
        Some(Err(AppError::Invalid(fields))) => {
            let first = fields
                .0
                .keys()
                .map(|k| Step::of_field(k))
                .min()
                .unwrap_or(Step::Configure);
            state.errors.set(fields);
            state.go(first);
            state.message.set(Some(FIX_FIELDS.into()));
        }
        Some(Err(e)) => state.message.set(Some(e.to_string())),
        None => {}
    });

    let next = move |_| {
        let step = state.step.get_untracked();
        let found = state.check(step);
        if !found.is_empty() {
            state.errors.set(found);
            state.message.set(Some(FIX_FIELDS.into()));
            return;
        }
        state.errors.set(FieldErrors::default());
        if step == Step::Configure {
            let spec = state.draft();
            vmid_check.dispatch((spec.node_id, spec.vmid));
        } else {
            state.go(step.next());
        }
    };
    let back = move |_| {
        state.errors.set(FieldErrors::default());
        state.go(state.step.get_untracked().previous());
    };
    let submit = move |_| {
        let found = state.check(Step::Review);
        if found.is_empty() {
            state.message.set(None);
            deploy.dispatch(state.form());
        } else {
            let first = found.0.keys().map(|k| Step::of_field(k)).min();
            state.errors.set(found);
            state.go(first.unwrap_or(Step::Configure));
            state.message.set(Some(FIX_FIELDS.into()));
        }
    };
    let node_list = Signal::derive(move || nodes.get().and_then(Result::ok).unwrap_or_default());
    let step = move || state.step.get();

    view! {
        <div class="wizard">
            <h1>"Create container"</h1>
            <WizardStepper state />
            <ErrorBanner message=state.message />
            {move || match step() {
                Step::Template => view! { <TemplateStep state /> }.into_any(),
                Step::Configure => view! { <ConfigureStep state nodes lists /> }.into_any(),
                Step::Packages => view! { <PackagesStep state /> }.into_any(),
                Step::Scripts => view! { <ScriptsStep state /> }.into_any(),
                Step::Review => view! { <ReviewStep state nodes=node_list /> }.into_any(),
            }}
            <div class="wizard-nav">
                <Show when=move || step() != Step::Template>
                    <button type="button" id="wizard-back" class="button" on:click=back>
                        {move || format!("← Back to {}", step().previous().label())}
                    </button>
                </Show>
                <Show
                    when=move || step() != Step::Review
                    fallback=move || view! {
                        <button
                            type="button"
                            id="wizard-deploy"
                            class="button button-primary"
                            disabled=move || deploy.pending().get()
                            on:click=submit
                        >
                            {move || if deploy.pending().get() { "Deploying…" } else { "Deploy container" }}
                        </button>
                    }
                >
                    <button
                        type="button"
                        id="wizard-next"
                        class="button button-primary"
                        disabled=move || vmid_check.pending().get()
                        on:click=next
                    >
                        {move || if vmid_check.pending().get() {
                            "Checking the VMID…".to_owned()
                        } else {
                            format!("Next: {} →", step().next().label())
                        }}
                    </button>
                </Show>
            </div>
        </div>
    }
}

fn focus_step_heading() {
    use wasm_bindgen::JsCast;
    if let Some(heading) = document()
        .get_element_by_id("step-heading")
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = heading.focus();
    }
}

/// Fills what the node decides: the VMID (unless the user typed one), and a storage, bridge and
/// OS template from its lists when the current choice is not among them.
fn fill_from_node(state: WizardState, found: &NodeResources) {
    // Fill an empty field once, and replace only our own earlier suggestion: a field the user
    // emptied to type their own number is not filled again when the lists are read again.
    let vmid = state.vmid.get_untracked();
    let filled = state.vmid_filled.get_untracked();
    let untouched = match filled.as_deref() {
        None => vmid.trim().is_empty(),
        Some(suggested) => suggested == vmid.as_str(),
    };
    if untouched {
        let next = found.next_vmid.to_string();
        state.vmid.set(next.clone());
        state.vmid_filled.set(Some(next));
    }
    let keep_or_first = |signal: RwSignal<String>, names: Vec<&String>| {
        let current = signal.get_untracked();
        if !names.iter().any(|n| **n == current) {
            signal.set(names.first().map(|n| (*n).clone()).unwrap_or_default());
        }
    };
    keep_or_first(
        state.storage,
        found.storages.iter().map(|s| &s.name).collect(),
    );
    keep_or_first(
        state.bridge,
        found.bridges.iter().map(|b| &b.name).collect(),
    );
    let current = state.os_template.get_untracked();
    if !found.os_templates.contains(&current) {
        let hint = state.os_hint.get_untracked();
        state
            .os_template
            .set(matching_os_template(&found.os_templates, &hint).unwrap_or_default());
    }
}

/// The node's template volume that matches a template's OS name (`debian-12-standard`
/// matches `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`); the newest when several do.
fn matching_os_template(volids: &[String], hint: &str) -> Option<String> {
    let hint = hint.trim();
    if hint.is_empty() {
        return None;
    }
    if volids.iter().any(|v| v == hint) {
        return Some(hint.to_owned());
    }
    let file = |v: &String| v.rsplit(['/', ':']).next().unwrap_or_default().to_owned();
    volids
        .iter()
        .filter(|v| file(v).starts_with(hint))
        .max_by_key(|v| file(v))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::matching_os_template;

    #[test]
    fn os_templates_are_matched_by_name() {
        let volids = vec![
            "local:vztmpl/debian-11-standard_11.7-1_amd64.tar.zst".to_owned(),
            "local:vztmpl/debian-12-standard_12.2-1_amd64.tar.zst".to_owned(),
            "nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst".to_owned(),
            "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst".to_owned(),
        ];
        assert_eq!(
            matching_os_template(&volids, "debian-12-standard").as_deref(),
            Some("nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")
        );
        assert_eq!(
            matching_os_template(&volids, &volids[0]).as_deref(),
            Some(volids[0].as_str())
        );
        assert_eq!(matching_os_template(&volids, "alpine-3.20"), None);
        assert_eq!(matching_os_template(&volids, ""), None);
    }
}
