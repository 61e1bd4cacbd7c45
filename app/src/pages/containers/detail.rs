//! `/containers/:id`: one container's configuration (no secret is ever shown here), what its
//! node says about it now, its services and credentials, its Proxmox tasks, the full event and
//! log history, and its actions.

use super::actions::ContainerActions;
use super::activity::ContainerActivity;
use super::health::ServiceHealthList;
use super::live::{NodeStatus, use_live_one};
use super::log_view::LogViewer;
use super::node_tasks::NodeTasks;
use super::runs::{ReapplyTemplate, RunsList};
use super::services::{CredentialsList, ServicesList};
use super::stream::Progress;
use super::{LifecycleBadge, container_id_param};
use crate::api::containers::{ContainerDetail, get_container};
use domain::ContainerId;
use domain::container::Lifecycle;
use domain::spec::{ContainerSpec, Ipv4Config};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn ContainerDetailPage() -> impl IntoView {
    let id = container_id_param();
    move || match id.get() {
        Some(id) => view! { <DetailView id /> }.into_any(),
        None => view! {
            <h1>"Container not found"</h1>
            <p><a href="/containers">"Back to the containers"</a></p>
        }
        .into_any(),
    }
}

#[component]
fn DetailView(id: ContainerId) -> impl IntoView {
    let detail = LocalResource::new(move || get_container(id));
    let history = Progress::open(id);
    let navigate = use_navigate();
    let on_changed = Callback::new(move |()| detail.refetch());
    let on_retried = Callback::new(move |()| {
        navigate(&format!("/containers/{id}/progress"), Default::default());
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || detail.get().map(|result| match result {
                Ok(d) => view! { <DetailBody detail=d on_changed on_retried /> }.into_any(),
                Err(e) => view! {
                    <h1>"Container"</h1>
                    <p class="banner banner-error" role="alert">{e.to_string()}</p>
                    <p><a href="/containers">"Back to the containers"</a></p>
                }.into_any(),
            })}
        </Suspense>
        <section class="card" aria-labelledby="history-heading">
            <h2 id="history-heading">"Event and log history"</h2>
            <LogViewer events=history.events label="Event and log history" />
        </section>
    }
}

#[component]
fn DetailBody(
    detail: ContainerDetail,
    on_changed: Callback<()>,
    on_retried: Callback<()>,
) -> impl IntoView {
    let s = detail.summary.clone();
    let id = s.id;
    let lifecycle = s.lifecycle;
    let on_action = if lifecycle == Lifecycle::Error {
        on_retried
    } else {
        on_changed
    };
    let live = use_live_one(id);
    view! {
        <div class="page-head">
            <h1>{s.hostname.clone()}</h1>
            <LifecycleBadge lifecycle />
        </div>
        <Show when=move || lifecycle == Lifecycle::Creating>
            <p class="banner banner-warn">
                "This container is being created. "
                <a href=format!("/containers/{id}/progress")>"Watch the progress"</a>
            </p>
        </Show>
        <Show when=move || lifecycle == Lifecycle::Updating>
            <p class="banner banner-warn">
                "This container is being updated: its template is applied again. See the newest run below."
            </p>
        </Show>
        {detail.error_message.clone().map(|m| view! {
            <div class="banner banner-error" role="alert">
                <strong>"The last run failed: "</strong>{m}
            </div>
        })}
        <section class="card" aria-label="Actions">
            <ContainerActions id lifecycle on_changed=on_action node_view=live.value />
            <p><a href=format!("/containers/new?like={id}")>"Create another like this"</a></p>
        </section>
        <NodeStatus live lifecycle />
        <div class="detail-grid">
            <section class="card" aria-labelledby="config-heading">
                <h2 id="config-heading">"Configuration"</h2>
                <dl class="facts" data-testid="config">
                    <dt>"VMID"</dt><dd>{s.vmid}</dd>
                    <dt>"Node"</dt><dd>{s.node.clone()}</dd>
                    <dt>"Template"</dt><dd>{s.template.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"IP address"</dt><dd>{s.ip_address.clone().unwrap_or_else(|| "not known yet".into())}</dd>
                    <dt>"Created"</dt><dd>{s.created.clone()}</dd>
                    <dt>"Root password"</dt><dd>"•••••••• (never shown; kept only until the container was created)"</dd>
                    {detail.spec.clone().map(spec_facts)}
                </dl>
            </section>
            <section class="card" aria-labelledby="services-heading">
                <h2 id="services-heading">"Services"</h2>
                {if lifecycle == Lifecycle::Ready {
                    view! { <ServiceHealthList id services=detail.services.clone() /> }.into_any()
                } else {
                    view! { <ServicesList services=detail.services.clone() /> }.into_any()
                }}
                <h2>"Credentials"</h2>
                <CredentialsList container=id names=detail.credentials.clone() />
            </section>
        </div>
        <NodeTasks id />
        <ReapplyTemplate id lifecycle from_template=detail.spec.as_ref().is_some_and(|s| s.template_id.is_some()) />
        <RunsList id />
        <ContainerActivity id />
    }
}

/// The wizard's choices as facts.
fn spec_facts(spec: ContainerSpec) -> impl IntoView {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let network = match spec.ipv4 {
        Ipv4Config::Dhcp => format!("{} · DHCP", spec.bridge),
        Ipv4Config::Static { cidr, gateway } => match gateway {
            Some(gw) => format!("{} · {cidr} via {gw}", spec.bridge),
            None => format!("{} · {cidr}", spec.bridge),
        },
    };
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    let packages = list(spec.packages.iter().map(|p| p.name.clone()).collect());
    let scripts = list(
        spec.scripts
            .iter()
            .map(|s| {
                if s.enabled {
                    s.name.clone()
                } else {
                    format!("{} (skipped)", s.name)
                }
            })
            .collect(),
    );
    let files = list(
        spec.files
            .iter()
            .map(|f| format!("{}/{}", f.target_dir.trim_end_matches('/'), f.name))
            .collect(),
    );
    let ssh_key = spec
        .ssh_public_key
        .as_deref()
        .map(short_key)
        .unwrap_or_else(|| "none".into());
    view! {
        <dt>"CPU cores"</dt><dd>{spec.cores}</dd>
        <dt>"Memory"</dt><dd>{format!("{} MiB (swap {} MiB)", spec.memory_mib, spec.swap_mib)}</dd>
        <dt>"Disk"</dt><dd>{format!("{} GiB on {}", spec.disk_gib, spec.storage)}</dd>
        <dt>"OS template"</dt><dd>{spec.os_template.clone()}</dd>
        <dt>"Network"</dt><dd>{network}</dd>
        <dt>"DNS server"</dt><dd>{spec.nameserver.map_or_else(|| "the node's".to_owned(), |n| n.to_string())}</dd>
        <dt>"SSH key"</dt><dd>{ssh_key}</dd>
        <dt>"Unprivileged"</dt><dd>{yes_no(spec.unprivileged)}</dd>
        <dt>"Features"</dt><dd>{format!("nesting {}, keyctl {}, fuse {}", yes_no(spec.nesting), yes_no(spec.keyctl), yes_no(spec.fuse))}</dd>
        <dt>"Tags"</dt><dd>{list(spec.tags.clone())}</dd>
        <dt>"Packages"</dt><dd>{packages}</dd>
        <dt>"Scripts"</dt><dd>{scripts}</dd>
        <dt>"Files"</dt><dd>{files}</dd>
    }
}

/// A public key shortened to its type, the start of its data and its comment.
fn short_key(key: &str) -> String {
    let mut parts = key.split_whitespace();
    let kind = parts.next().unwrap_or_default();
    let blob = parts.next().unwrap_or_default();
    let comment = parts.collect::<Vec<_>>().join(" ");
    let start: String = blob.chars().take(12).collect();
    format!("{kind} {start}… {comment}").trim_end().to_owned()
}
