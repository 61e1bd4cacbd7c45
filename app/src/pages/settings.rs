//! Settings: the Proxmox VE nodes infrahaus manages. Admins only; an operator who opens it is
//! told so (and the server refuses their node changes with 403).

use crate::api::nodes::{delete_node, list_nodes, save_node, test_node_connection};
use crate::components::account::AdminOnly;
use crate::components::field::{ErrorBanner, TextField, error_for};
use crate::components::form_error::show_error;
use crate::error::AppError;
use domain::node::{ConnectionReport, NodeForm, NodeSummary, TlsTrust};
use domain::{FieldErrors, NodeId};
use leptos::prelude::*;

/// The form's inputs as signals, so Back/Cancel and edits keep what was typed.
#[derive(Clone, Copy)]
struct NodeFormState {
    editing: RwSignal<Option<NodeId>>,
    name: RwSignal<String>,
    host: RwSignal<String>,
    port: RwSignal<String>,
    ssh_port: RwSignal<String>,
    token_id: RwSignal<String>,
    token_secret: RwSignal<String>,
    tls_mode: RwSignal<String>,
    fingerprint: RwSignal<String>,
}

impl NodeFormState {
    fn new() -> Self {
        Self {
            editing: RwSignal::new(None),
            name: RwSignal::new(String::new()),
            host: RwSignal::new(String::new()),
            port: RwSignal::new("8006".into()),
            ssh_port: RwSignal::new("22".into()),
            token_id: RwSignal::new(String::new()),
            token_secret: RwSignal::new(String::new()),
            tls_mode: RwSignal::new("fingerprint".into()),
            fingerprint: RwSignal::new(String::new()),
        }
    }

    fn form(&self) -> NodeForm {
        NodeForm {
            name: self.name.get_untracked(),
            host: self.host.get_untracked(),
            port: self.port.get_untracked(),
            ssh_port: self.ssh_port.get_untracked(),
            token_id: self.token_id.get_untracked(),
            token_secret: self.token_secret.get_untracked(),
            tls_mode: self.tls_mode.get_untracked(),
            fingerprint: self.fingerprint.get_untracked(),
        }
    }

    fn load(&self, node: Option<&NodeSummary>) {
        let fresh = NodeFormState::new();
        let (tls_mode, fingerprint) = match node.map(|n| &n.tls) {
            Some(TlsTrust::SystemCa) => ("system_ca".to_owned(), String::new()),
            Some(TlsTrust::Fingerprint(fp)) => ("fingerprint".to_owned(), fp.clone()),
            None => (fresh.tls_mode.get_untracked(), String::new()),
        };
        self.editing.set(node.map(|n| n.id));
        self.name
            .set(node.map(|n| n.name.clone()).unwrap_or_default());
        self.host
            .set(node.map(|n| n.host.clone()).unwrap_or_default());
        self.port
            .set(node.map_or_else(|| "8006".into(), |n| n.port.to_string()));
        self.ssh_port
            .set(node.map_or_else(|| "22".into(), |n| n.ssh_port.to_string()));
        self.token_id
            .set(node.map(|n| n.token_id.clone()).unwrap_or_default());
        self.token_secret.set(String::new());
        self.tls_mode.set(tls_mode);
        self.fingerprint.set(fingerprint);
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <AdminOnly title="Settings" what="add, change or delete Proxmox nodes">
            <NodeSettings />
        </AdminOnly>
    }
}

#[component]
fn NodeSettings() -> impl IntoView {
    let nodes = LocalResource::new(list_nodes);
    let state = NodeFormState::new();
    let form_open = RwSignal::new(false);
    let errors = RwSignal::new(FieldErrors::default());
    let message = RwSignal::new(None::<String>);
    let report = RwSignal::new(None::<Result<ConnectionReport, String>>);

    let save =
        Action::new_local(move |_: &()| save_node(state.editing.get_untracked(), state.form()));
    Effect::new(move || match save.value().get() {
        Some(Ok(_)) => {
            form_open.set(false);
            errors.set(FieldErrors::default());
            message.set(None);
            nodes.refetch();
        }
        Some(Err(e)) => show_error(e, errors, message),
        None => {}
    });

    let test = Action::new_local(move |_: &()| {
        test_node_connection(state.editing.get_untracked(), state.form())
    });
    Effect::new(move || match test.value().get() {
        Some(Ok(found)) => {
            errors.set(FieldErrors::default());
            report.set(Some(Ok(found)));
        }
        Some(Err(AppError::Invalid(fields))) => {
            errors.set(fields);
            report.set(None);
        }
        Some(Err(e)) => report.set(Some(Err(e.to_string()))),
        None => {}
    });

    let remove = Action::new_local(|id: &NodeId| delete_node(*id));
    Effect::new(move || match remove.value().get() {
        Some(Ok(())) => nodes.refetch(),
        Some(Err(e)) => message.set(Some(e.to_string())),
        None => {}
    });

    let open_form = move |node: Option<NodeSummary>| {
        state.load(node.as_ref());
        errors.set(FieldErrors::default());
        message.set(None);
        report.set(None);
        form_open.set(true);
    };

    view! {
        <h1>"Settings"</h1>
        <section class="card" aria-labelledby="nodes-heading">
            <div class="card-head">
                <h2 id="nodes-heading">"Proxmox nodes"</h2>
                <button class="button button-primary" on:click=move |_| open_form(None)>"Add node"</button>
            </div>
            <Show when=move || !form_open.get()>
                <ErrorBanner message=message />
            </Show>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || nodes.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No nodes yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="node-list" data-testid="node-list">
                            {list.into_iter().map(|node| view! {
                                <NodeRowView node=node on_edit=open_form on_delete=move |id| { remove.dispatch(id); } />
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
        <Show when=move || form_open.get()>
            <NodeFormView state errors message report save test form_open />
        </Show>
    }
}

/// One node in the list, with Edit and a two-step Delete.
#[component]
fn NodeRowView(
    node: NodeSummary,
    on_edit: impl Fn(Option<NodeSummary>) + Copy + Send + Sync + 'static,
    on_delete: impl Fn(NodeId) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let id = node.id;
    let trust = match &node.tls {
        TlsTrust::SystemCa => "system CA".to_owned(),
        TlsTrust::Fingerprint(fp) => format!("pinned {}…", &fp[..fp.len().min(11)]),
    };
    let edit_node = node.clone();
    view! {
        <li class="node-row">
            <div>
                <strong>{node.name.clone()}</strong>
                <div class="muted">{format!("{}:{} · {} · {}", node.host, node.port, node.token_id, trust)}</div>
            </div>
            <div class="actions">
                <Show
                    when=move || confirming.get()
                    fallback=move || {
                        let edit_node = edit_node.clone();
                        view! {
                            <button class="button" on:click=move |_| on_edit(Some(edit_node.clone()))>"Edit"</button>
                            <button class="button button-danger" on:click=move |_| confirming.set(true)>"Delete"</button>
                        }
                    }
                >
                    <span>"Delete this node?"</span>
                    <button class="button button-danger" on:click=move |_| on_delete(id)>"Yes, delete"</button>
                    <button class="button" on:click=move |_| confirming.set(false)>"Keep"</button>
                </Show>
            </div>
        </li>
    }
}

#[component]
fn NodeFormView(
    state: NodeFormState,
    errors: RwSignal<FieldErrors>,
    message: RwSignal<Option<String>>,
    report: RwSignal<Option<Result<ConnectionReport, String>>>,
    save: Action<(), Result<NodeSummary, AppError>>,
    test: Action<(), Result<ConnectionReport, AppError>>,
    form_open: RwSignal<bool>,
) -> impl IntoView {
    let editing = move || state.editing.get().is_some();
    view! {
        <section class="card" aria-labelledby="node-form-heading">
            <h2 id="node-form-heading">{move || if editing() { "Edit node" } else { "Add node" }}</h2>
            <form
                class="form-grid"
                on:submit=move |ev| {
                    ev.prevent_default();
                    save.dispatch(());
                }
            >
                <ErrorBanner message=message />
                <TextField id="name" label="Display name" value=state.name error=error_for(errors, "name") placeholder="pve" />
                <TextField id="host" label="Host" value=state.host error=error_for(errors, "host") placeholder="192.168.1.10 or pve.lan" />
                <TextField id="port" label="API port" value=state.port error=error_for(errors, "port") input_type="number" />
                <TextField
                    id="ssh_port"
                    label="Node SSH port"
                    value=state.ssh_port
                    error=error_for(errors, "ssh_port")
                    input_type="number"
                    hint="The worker logs in to the node as root with its node key and uses pct: to read a new container's SSH host keys before trusting it, and to deploy when the container's own sshd cannot be reached."
                />
                <TextField
                    id="token_id"
                    label="API token ID"
                    value=state.token_id
                    error=error_for(errors, "token_id")
                    placeholder="root@pam!infrahaus"
                    hint="Datacenter → Permissions → API Tokens in the Proxmox web UI."
                />
                <TextField
                    id="token_secret"
                    label="API token secret"
                    value=state.token_secret
                    error=error_for(errors, "token_secret")
                    input_type="password"
                    autocomplete="off"
                    hint="Stored encrypted. When editing, leave empty to keep the saved secret."
                />
                <fieldset class="field">
                    <legend>"Certificate check"</legend>
                    <label class="radio" for="tls_fingerprint">
                        <input
                            type="radio"
                            id="tls_fingerprint"
                            name="tls_mode"
                            value="fingerprint"
                            prop:checked=move || state.tls_mode.get() == "fingerprint"
                            on:change=move |_| state.tls_mode.set("fingerprint".into())
                        />
                        "Pinned SHA-256 fingerprint (self-signed certificate)"
                    </label>
                    <label class="radio" for="tls_system_ca">
                        <input
                            type="radio"
                            id="tls_system_ca"
                            name="tls_mode"
                            value="system_ca"
                            prop:checked=move || state.tls_mode.get() == "system_ca"
                            on:change=move |_| state.tls_mode.set("system_ca".into())
                        />
                        "System certificate authorities"
                    </label>
                </fieldset>
                <Show when=move || state.tls_mode.get() == "fingerprint">
                    <TextField
                        id="fingerprint"
                        label="Certificate fingerprint (SHA-256)"
                        value=state.fingerprint
                        error=error_for(errors, "fingerprint")
                        placeholder="AB:CD:…"
                        hint="On the node: Datacenter → node → System → Certificates → View Certificate."
                    />
                </Show>
                <div class="form-actions">
                    <button class="button" type="button" on:click=move |_| { test.dispatch(()); } disabled=move || test.pending().get()>
                        {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                    </button>
                    <button class="button button-primary" type="submit" disabled=move || save.pending().get()>"Save node"</button>
                    <button class="button button-quiet" type="button" on:click=move |_| form_open.set(false)>"Cancel"</button>
                </div>
            </form>
            <ConnectionReportView report />
        </section>
    }
}

/// The findings of "Test connection".
#[component]
fn ConnectionReportView(
    report: RwSignal<Option<Result<ConnectionReport, String>>>,
) -> impl IntoView {
    move || {
        report.get().map(|result| match result {
            Err(reason) => view! {
                <div class="banner banner-error" role="alert" data-testid="connection-result">
                    <strong>"Connection failed. "</strong>{reason}
                </div>
            }
            .into_any(),
            Ok(found) => {
                let ok = found.can_create();
                let list = |items: &[String]| if items.is_empty() { "none".to_owned() } else { items.join(", ") };
                view! {
                    <div class=if ok { "banner banner-ok" } else { "banner banner-warn" } role="status" data-testid="connection-result">
                        <p><strong>{format!("Connected: Proxmox VE {}", found.version)}</strong></p>
                        <dl class="facts">
                            <dt>"Node"</dt><dd>{found.node.clone().unwrap_or_else(|| "none".into())}</dd>
                            <dt>"Root disk storages"</dt><dd>{list(&found.rootdir_storages)}</dd>
                            <dt>"OS templates"</dt><dd>{list(&found.os_templates)}</dd>
                            <dt>"Bridges"</dt><dd>{list(&found.bridges)}</dd>
                            <dt>"Next free VMID"</dt><dd>{found.next_vmid.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into())}</dd>
                        </dl>
                        <Show when=move || !ok>
                            <p>"Containers cannot be created yet:"</p>
                        </Show>
                        <ul>{found.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
                    </div>
                }
                .into_any()
            }
        })
    }
}
