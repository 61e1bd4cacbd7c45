//! Step 2: where and how the container runs. The node's storages, OS templates and bridges
//! are asked of the node; the VMID starts at the node's next free one.

use super::fields::ChoiceField;
use super::password::GeneratePassword;
use super::state::WizardState;
use crate::api::resources::NodeResources;
use crate::components::field::{TextField, error_for};
use crate::error::AppError;
use crate::pages::templates::fields::{AreaField, CheckField};
use domain::node::NodeSummary;
use leptos::prelude::*;

/// What the page knows about the chosen node: nothing yet, asking, its lists, or why not.
pub type NodeLists = LocalResource<Option<Result<NodeResources, AppError>>>;

#[component]
pub fn ConfigureStep(
    state: WizardState,
    nodes: LocalResource<Result<Vec<NodeSummary>, AppError>>,
    lists: NodeLists,
) -> impl IntoView {
    let errors = state.errors;
    let node_options = Signal::derive(move || {
        nodes
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|n| (n.id.to_string(), format!("{} ({})", n.name, n.host)))
            .collect::<Vec<_>>()
    });
    let found = move || lists.get().flatten().and_then(Result::ok);
    let storage_options = Signal::derive(move || {
        found()
            .map(|r| {
                r.storages
                    .into_iter()
                    .map(|s| {
                        let text = match s.avail_bytes {
                            Some(b) => format!("{} ({}, {} GiB free)", s.name, s.kind, b >> 30),
                            None => format!("{} ({})", s.name, s.kind),
                        };
                        (s.name, text)
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let template_options = Signal::derive(move || {
        found()
            .map(|r| {
                r.os_templates
                    .into_iter()
                    .map(|v| (v.clone(), v))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let bridge_options = Signal::derive(move || {
        found()
            .map(|r| {
                r.bridges
                    .into_iter()
                    .map(|b| {
                        let text = match &b.cidr {
                            Some(cidr) => format!("{} ({cidr})", b.name),
                            None => b.name.clone(),
                        };
                        (b.name, text)
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let static_ip = move || state.ipv4_mode.get() == "static";
    let next_vmid_hint = move || {
        found()
            .map(|r| format!("Next free on {}: {}.", r.pve_node, r.next_vmid))
            .unwrap_or_default()
    };

    view! {
        <section class="card wizard-panel" aria-labelledby="step-heading">
            <h2 id="step-heading" tabindex="-1">"2. Configure the container"</h2>
            <NodeStatus state nodes lists />
            <fieldset class="wizard-group">
                <legend>"Node and name"</legend>
                <div class="wizard-grid">
                    <ChoiceField id="node_id" label="Proxmox node" value=state.node_id options=node_options
                        error=error_for(errors, "node_id") placeholder="Choose a node" />
                    <TextField id="hostname" label="Hostname" value=state.hostname error=error_for(errors, "hostname")
                        placeholder="web-1" hint="Letters, digits and hyphens; dots separate labels." />
                    <div class="field-with-note">
                        <TextField id="vmid" label="VMID" value=state.vmid error=error_for(errors, "vmid") input_type="number"
                            hint="The container's number in Proxmox, 100 or more." />
                        <p class="field-hint" data-testid="next-vmid">{next_vmid_hint}</p>
                    </div>
                </div>
            </fieldset>
            <fieldset class="wizard-group">
                <legend>"Resources"</legend>
                <div class="wizard-grid">
                    <TextField id="cores" label="CPU cores" value=state.cores error=error_for(errors, "cores") input_type="number" />
                    <TextField id="memory_mib" label="Memory (MiB)" value=state.memory_mib error=error_for(errors, "memory_mib") input_type="number" />
                    <TextField id="swap_mib" label="Swap (MiB)" value=state.swap_mib error=error_for(errors, "swap_mib") input_type="number" />
                    <TextField id="disk_gib" label="Disk size (GiB)" value=state.disk_gib error=error_for(errors, "disk_gib") input_type="number" />
                    <ChoiceField id="storage" label="Storage for the root disk" value=state.storage options=storage_options
                        error=error_for(errors, "storage") placeholder="Choose a storage"
                        hint="Only storages that accept container disks are listed." />
                    <ChoiceField id="os_template" label="OS template" value=state.os_template options=template_options
                        error=error_for(errors, "os_template") placeholder="Choose an OS template"
                        hint="The container templates downloaded on the node." />
                </div>
            </fieldset>
            <fieldset class="wizard-group">
                <legend>"Network"</legend>
                <div class="wizard-grid">
                    <ChoiceField id="bridge" label="Bridge" value=state.bridge options=bridge_options
                        error=error_for(errors, "bridge") placeholder="Choose a bridge" />
                    <fieldset class="field">
                        <legend>"IPv4 address"</legend>
                        <label class="radio" for="ipv4_dhcp">
                            <input type="radio" id="ipv4_dhcp" name="ipv4_mode" value="dhcp"
                                prop:checked=move || !static_ip()
                                on:change=move |_| state.ipv4_mode.set("dhcp".into()) />
                            "DHCP (from your router)"
                        </label>
                        <label class="radio" for="ipv4_static">
                            <input type="radio" id="ipv4_static" name="ipv4_mode" value="static"
                                prop:checked=static_ip
                                on:change=move |_| state.ipv4_mode.set("static".into()) />
                            "Static address"
                        </label>
                    </fieldset>
                    <Show when=static_ip>
                        <TextField id="ipv4_cidr" label="Address with prefix" value=state.ipv4_cidr
                            error=error_for(errors, "ipv4_cidr") placeholder="192.168.1.50/24" />
                        <TextField id="gateway" label="Gateway" value=state.gateway
                            error=error_for(errors, "gateway") placeholder="192.168.1.1" hint="Optional; must be in the same network." />
                    </Show>
                    <TextField id="nameserver" label="DNS server (optional)" value=state.nameserver
                        error=error_for(errors, "nameserver") placeholder="192.168.1.1" hint="Empty uses the node's." />
                </div>
            </fieldset>
            <fieldset class="wizard-group">
                <legend>"Access"</legend>
                <div class="wizard-grid">
                    <TextField id="root_password" label="Root password" value=state.root_password
                        error=error_for(errors, "root_password") input_type="password" autocomplete="new-password"
                        hint="At least 5 characters. Stored encrypted until the container exists." />
                    <TextField id="root_password_confirm" label="Root password again" value=state.root_password_confirm
                        error=error_for(errors, "root_password_confirm") input_type="password" autocomplete="new-password" />
                </div>
                <GeneratePassword state=state />
                <AreaField id="ssh_public_key".to_owned() label="Your SSH public key (optional)" value=state.ssh_public_key
                    error=error_for(errors, "ssh_public_key") rows=3 code=true
                    hint="One line from ~/.ssh/id_ed25519.pub, e.g. ssh-ed25519 AAAA… you@laptop." />
            </fieldset>
            <fieldset class="wizard-group">
                <legend>"Options"</legend>
                <div class="wizard-checks">
                    <CheckField id="unprivileged".to_owned() label="Unprivileged container" checked=state.unprivileged
                        hint="Safer: root in the container is not root on the node." />
                    <CheckField id="nesting".to_owned() label="Nesting" checked=state.nesting hint="Needed by systemd in newer distributions and by Docker." />
                    <CheckField id="keyctl".to_owned() label="keyctl" checked=state.keyctl hint="For Docker in unprivileged containers." />
                    <CheckField id="fuse".to_owned() label="FUSE" checked=state.fuse hint="For FUSE file systems such as sshfs." />
                </div>
                <TextField id="tags" label="Tags (optional)" value=state.tags error=error_for(errors, "tags")
                    placeholder="web, home" hint="Separate with commas." />
            </fieldset>
        </section>
    }
}

/// Whether the node list and the chosen node's lists are there, and why not.
#[component]
fn NodeStatus(
    state: WizardState,
    nodes: LocalResource<Result<Vec<NodeSummary>, AppError>>,
    lists: NodeLists,
) -> impl IntoView {
    move || {
        match nodes.get() {
            None => {
                return view! { <p class="muted" role="status">"Loading nodes…"</p> }.into_any();
            }
            Some(Err(e)) => {
                return view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }
                    .into_any();
            }
            Some(Ok(list)) if list.is_empty() => {
                return view! {
                    <p class="banner banner-warn" role="alert">
                        "No Proxmox node is registered yet. Add one under "<a href="/settings">"Settings"</a>" first."
                    </p>
                }
                .into_any();
            }
            Some(Ok(_)) => {}
        }
        if state.node_id.get().is_empty() {
            return ().into_any();
        }
        match lists.get() {
            None | Some(None) => view! { <p class="muted" role="status">"Asking the node for its storages, templates and bridges…"</p> }.into_any(),
            Some(Some(Ok(_))) => ().into_any(),
            Some(Some(Err(e))) => view! {
                <div class="banner banner-error" role="alert" data-testid="node-unreachable">
                    <p>{e.field_errors().get("node_id").map_or_else(|| e.to_string(), str::to_owned)}</p>
                    <button type="button" class="button" on:click=move |_| lists.refetch()>"Ask the node again"</button>
                </div>
            }
            .into_any(),
        }
    }
}
