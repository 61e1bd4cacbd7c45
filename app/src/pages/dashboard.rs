//! The landing page after login: what is set up, and what to do next.

use crate::api::containers::list_containers;
use crate::api::nodes::list_nodes;
use crate::pages::containers::list::ContainerTable;
use leptos::prelude::*;

/// Containers shown on the dashboard, newest first.
const RECENT: usize = 5;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let nodes = LocalResource::new(list_nodes);
    let containers = LocalResource::new(list_containers);
    view! {
        <h1>"Dashboard"</h1>
        <section class="card" aria-labelledby="recent-heading">
            <div class="card-head">
                <h2 id="recent-heading">"Recent containers"</h2>
                <a class="button button-primary" href="/containers/new">"Create container"</a>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || containers.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No containers yet."</p>
                    }.into_any(),
                    Ok(list) => {
                        let more = list.len() > RECENT;
                        view! {
                            <ContainerTable containers=list.into_iter().take(RECENT).collect() />
                            <Show when=move || more>
                                <p><a href="/containers">"All containers"</a></p>
                            </Show>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
        <section class="card" aria-labelledby="nodes-heading">
            <h2 id="nodes-heading">"Proxmox nodes"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || nodes.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p>"No Proxmox node yet. " <a href="/settings">"Add a node in Settings"</a> " to create containers."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="plain-list" data-testid="dashboard-nodes">
                            {list.into_iter().map(|n| view! {
                                <li><strong>{n.name}</strong> <span class="muted">{format!(" {}:{}", n.host, n.port)}</span></li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
