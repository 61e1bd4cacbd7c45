//! `/containers`: every container with its node, state and template, what its node says about
//! it right now (running / stopped / missing / node unreachable, uptime, CPU, memory, root disk,
//! refreshed while the page is open), and "Create container".

use super::LifecycleBadge;
use super::live::{NodeViewBadge, figure, uptime_secs, use_live_list};
use crate::api::containers::{ContainerSummary, list_containers};
use crate::api::status::{NodeView, Usage};
use leptos::prelude::*;

#[component]
pub fn ContainersPage() -> impl IntoView {
    let containers = LocalResource::new(list_containers);
    view! {
        <div class="page-head">
            <h1>"Containers"</h1>
            <a class="button button-primary" href="/containers/new">"Create container"</a>
        </div>
        <section class="card" aria-label="All containers">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || containers.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p>"No containers yet. " <a href="/containers/new">"Create your first container"</a> "."</p>
                    }.into_any(),
                    Ok(list) => view! { <ContainerTable containers=list /> }.into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// The containers as a table (scrolls sideways on a narrow screen), with each one's live node
/// view.
#[component]
pub fn ContainerTable(containers: Vec<ContainerSummary>) -> impl IntoView {
    let live = use_live_list();
    view! {
        {move || live.error.get().map(|e| view! {
            <p class="banner banner-error" role="alert">{format!("Live status unavailable: {e}")}</p>
        })}
        <div class="table-wrap">
            <table class="table" data-testid="container-table">
                <thead>
                    <tr>
                        <th scope="col">"Hostname"</th>
                        <th scope="col">"VMID"</th>
                        <th scope="col">"Node"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"On the node"</th>
                        <th scope="col">"Uptime"</th>
                        <th scope="col">"CPU"</th>
                        <th scope="col">"Memory"</th>
                        <th scope="col">"Root disk"</th>
                        <th scope="col">"Template"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>
                    {containers.into_iter().map(|c| {
                        let href = format!("/containers/{}", c.id);
                        let (id, lifecycle) = (c.id, c.lifecycle);
                        let view = move || live.value.with(|views| views.get(&id).cloned());
                        let usage = move |text: fn(&Usage) -> String| {
                            move || figure(view().as_ref(), text)
                        };
                        view! {
                            <tr data-container=c.id.to_string()>
                                <td><a href=href>{c.hostname}</a></td>
                                <td>{c.vmid}</td>
                                <td>{c.node}</td>
                                <td><LifecycleBadge lifecycle=c.lifecycle /></td>
                                <td data-label="On the node">
                                    {move || view! {
                                        <NodeViewBadge view=view().unwrap_or(NodeView::Checking) lifecycle />
                                    }}
                                </td>
                                <td data-label="Uptime" data-uptime-secs=move || uptime_secs(view().as_ref())>
                                    {usage(Usage::uptime_text)}
                                </td>
                                <td data-label="CPU">{usage(Usage::cpu_text)}</td>
                                <td data-label="Memory">{usage(Usage::mem_text)}</td>
                                <td data-label="Root disk">{usage(Usage::disk_text)}</td>
                                <td>{c.template.unwrap_or_else(|| "—".into())}</td>
                                <td>{c.created}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
