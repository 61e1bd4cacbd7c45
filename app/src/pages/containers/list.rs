//! `/containers`: every container with its node, state and template, and "Create container".

use super::LifecycleBadge;
use crate::api::containers::{ContainerSummary, list_containers};
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

/// The containers as a table (scrolls sideways on a narrow screen).
#[component]
pub fn ContainerTable(containers: Vec<ContainerSummary>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="container-table">
                <thead>
                    <tr>
                        <th scope="col">"Hostname"</th>
                        <th scope="col">"VMID"</th>
                        <th scope="col">"Node"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Template"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>
                    {containers.into_iter().map(|c| {
                        let href = format!("/containers/{}", c.id);
                        view! {
                            <tr data-container=c.id.to_string()>
                                <td><a href=href>{c.hostname}</a></td>
                                <td>{c.vmid}</td>
                                <td>{c.node}</td>
                                <td><LifecycleBadge lifecycle=c.lifecycle /></td>
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
