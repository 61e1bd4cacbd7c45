//! Step 5: everything on one page, the password masked, with links back to each step.

use super::state::{Step, WizardState};
use domain::node::NodeSummary;
use domain::spec::Ipv4Setup;
use leptos::prelude::*;

#[component]
pub fn ReviewStep(state: WizardState, nodes: Signal<Vec<NodeSummary>>) -> impl IntoView {
    let spec = state.draft();
    let node_name = nodes
        .get_untracked()
        .into_iter()
        .find(|n| n.id == spec.node_id)
        .map(|n| format!("{} ({})", n.name, n.host))
        .unwrap_or_else(|| "none".into());
    let template = spec
        .template_name
        .clone()
        .unwrap_or_else(|| "none (started blank)".into());
    let network = match &spec.ipv4 {
        Ipv4Setup::Dhcp => format!("{}, DHCP", spec.bridge),
        Ipv4Setup::Static { cidr, gateway } => format!(
            "{}, {cidr}{}",
            spec.bridge,
            gateway
                .as_deref()
                .map(|g| format!(" via {g}"))
                .unwrap_or_default()
        ),
    };
    let features: Vec<&str> = [
        (spec.unprivileged, "unprivileged"),
        (!spec.unprivileged, "privileged"),
        (spec.nesting, "nesting"),
        (spec.keyctl, "keyctl"),
        (spec.fuse, "FUSE"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let ssh_key = spec
        .ssh_public_key
        .as_deref()
        .map(|k| {
            let mut parts = k.split_whitespace();
            let kind = parts.next().unwrap_or_default();
            let comment = parts.nth(1).unwrap_or_default();
            format!("{kind} key {comment}").trim().to_owned()
        })
        .unwrap_or_else(|| "none".into());
    let or_none = |list: Vec<String>| {
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        }
    };
    let packages = or_none(
        spec.packages
            .iter()
            .map(|p| match &p.version {
                Some(v) => format!("{} {v} ({})", p.name, p.manager),
                None => format!("{} ({})", p.name, p.manager),
            })
            .collect(),
    );
    let scripts = spec.scripts.clone();
    let files = or_none(spec.files.iter().map(|f| f.target_path()).collect());
    let edit = move |step: Step, what: &'static str| {
        view! {
            <button type="button" class="button button-small" aria-label=format!("Edit {what}") on:click=move |_| state.go(step)>
                "Edit"
            </button>
        }
    };
    let fact = |label: &'static str, value: String, test_id: &'static str| {
        view! { <dt>{label}</dt><dd data-testid=test_id>{value}</dd> }
    };

    view! {
        <section class="card wizard-panel" aria-labelledby="step-heading">
            <h2 id="step-heading" tabindex="-1">"5. Review and deploy"</h2>
            <p class="muted">"Check everything once more. Deploy creates the container on the node and sets it up; you can follow every step."</p>
            <div class="wizard-review">
                <section aria-labelledby="review-template">
                    <div class="wizard-review-head"><h3 id="review-template">"Template"</h3>{edit(Step::Template, "template")}</div>
                    <dl class="facts">{fact("Template", template, "review-template")}</dl>
                </section>
                <section aria-labelledby="review-configure">
                    <div class="wizard-review-head"><h3 id="review-configure">"Configuration"</h3>{edit(Step::Configure, "configuration")}</div>
                    <dl class="facts">
                        {fact("Node", node_name, "review-node")}
                        {fact("Hostname", spec.hostname.clone(), "review-hostname")}
                        {fact("VMID", spec.vmid.to_string(), "review-vmid")}
                        {fact("Resources", format!("{} cores, {} MiB memory, {} MiB swap, {} GiB disk", spec.cores, spec.memory_mib, spec.swap_mib, spec.disk_gib), "review-resources")}
                        {fact("Storage", spec.storage.clone(), "review-storage")}
                        {fact("OS template", spec.os_template.clone(), "review-os-template")}
                        {fact("Network", network, "review-network")}
                        {fact("DNS server", spec.nameserver.clone().unwrap_or_else(|| "the node's".into()), "review-nameserver")}
                        {fact("Root password", "•••••••• (hidden)".into(), "review-password")}
                        {fact("SSH key", ssh_key, "review-ssh-key")}
                        {fact("Options", features.join(", "), "review-features")}
                        {fact("Tags", or_none(spec.tags.clone()), "review-tags")}
                    </dl>
                </section>
                <section aria-labelledby="review-packages">
                    <div class="wizard-review-head"><h3 id="review-packages">"Packages"</h3>{edit(Step::Packages, "packages")}</div>
                    <p data-testid="review-packages">{packages}</p>
                </section>
                <section aria-labelledby="review-scripts">
                    <div class="wizard-review-head"><h3 id="review-scripts">"Scripts"</h3>{edit(Step::Scripts, "scripts")}</div>
                    {if scripts.is_empty() {
                        view! { <p data-testid="review-scripts">"none"</p> }.into_any()
                    } else {
                        view! {
                            <ol data-testid="review-scripts">
                                {scripts.into_iter().map(|s| view! {
                                    <li class:muted=!s.enabled>
                                        <code>{s.name.clone()}</code>{(!s.enabled).then_some(" (skipped)")}
                                    </li>
                                }).collect_view()}
                            </ol>
                        }.into_any()
                    }}
                    <p class="muted" data-testid="review-files">{format!("Files written: {files}")}</p>
                </section>
            </div>
        </section>
    }
}
