//! "Activity" on the container page: who revealed a credential, ran a power action or deleted a
//! container, and when, newest first. The users page shows the same list for every container.

use crate::api::activity::container_activity;
use domain::ContainerId;
use domain::audit::ActivityEntry;
use leptos::prelude::*;

/// The container's activity, read when the page (or its details, after an action) loads, and
/// again on "Refresh activity".
#[component]
pub fn ContainerActivity(id: ContainerId) -> impl IntoView {
    let entries = LocalResource::new(move || container_activity(id));
    view! {
        <section class="card" aria-labelledby="activity-heading">
            <div class="card-head">
                <h2 id="activity-heading">"Activity"</h2>
                <button class="button" type="button" on:click=move |_| entries.refetch()>
                    "Refresh activity"
                </button>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || entries.get().map(|result| match result {
                    Ok(entries) => view! { <ActivityList entries /> }.into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// Activity entries as sentences: "2026-12-04 20:01:02 UTC alice ran Start".
#[component]
pub fn ActivityList(
    entries: Vec<ActivityEntry>,
    /// Name the container in each line (for lists that span containers).
    #[prop(default = false)]
    with_container: bool,
) -> impl IntoView {
    if entries.is_empty() {
        return view! {
            <p class="muted">"Nobody has revealed a credential, run a power action or deleted a container here yet."</p>
        }
        .into_any();
    }
    view! {
        <ul class="activity-list" data-testid="activity">
            {entries.into_iter().map(|entry| {
                let what = entry.description();
                let on = with_container.then(|| format!(" on {}", entry.container));
                view! {
                    <li data-action=entry.action.as_str()>
                        <time>{entry.at.clone()}</time>
                        <strong class="activity-user">{entry.username.clone()}</strong>
                        " "
                        {what}
                        {on}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
