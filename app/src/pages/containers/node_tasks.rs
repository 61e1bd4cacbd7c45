//! The container page's "Proxmox tasks": the container's recent tasks on its node (its
//! creation, each start, shutdown, restart, stop) with each one's log on demand. Asked for when
//! the page opens, and again every few seconds while a task runs.

use crate::api::status::{NodeTask, TaskState, container_task_log, container_tasks};
use domain::ContainerId;
use leptos::prelude::*;
use std::time::Duration;

/// How often the list is asked for again while one of its tasks runs.
const WHILE_RUNNING: Duration = Duration::from_secs(2);

#[component]
pub fn NodeTasks(id: ContainerId) -> impl IntoView {
    let tasks = LocalResource::new(move || container_tasks(id));
    let open = RwSignal::new(None::<String>);
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let running = matches!(
                tasks.get_untracked(),
                Some(Ok(list)) if list.iter().any(|t| t.state == TaskState::Running)
            );
            if running {
                tasks.refetch();
            }
        },
        WHILE_RUNNING,
    ) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <section class="card" aria-labelledby="tasks-heading">
            <h2 id="tasks-heading">"Proxmox tasks"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || tasks.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No Proxmox tasks for this container yet."</p>
                    }.into_any(),
                    Ok(list) => view! { <TaskTable id tasks=list open /> }.into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TaskTable(
    id: ContainerId,
    tasks: Vec<NodeTask>,
    open: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="node-tasks">
                <thead>
                    <tr>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"By"</th>
                        <th scope="col">"Result"</th>
                        <th scope="col">"Log"</th>
                    </tr>
                </thead>
                <tbody>
                    {tasks.into_iter().map(|task| {
                        let upid = task.upid.clone();
                        let is_open = {
                            let upid = upid.clone();
                            move || open.with(|o| o.as_deref() == Some(upid.as_str()))
                        };
                        let toggle = {
                            let (upid, is_open) = (upid.clone(), is_open.clone());
                            move |_| open.set((!is_open()).then(|| upid.clone()))
                        };
                        let button_text = {
                            let is_open = is_open.clone();
                            move || if is_open() { "Hide log" } else { "Show log" }
                        };
                        let failed = matches!(task.state, TaskState::Failed { .. });
                        let log_upid = upid.clone();
                        view! {
                            <tr data-upid=upid>
                                <td>{task.label()}</td>
                                <td>{task.started.clone()}</td>
                                <td>{task.user.clone()}</td>
                                <td class:task-failed=failed>{task.state.text()}</td>
                                <td>
                                    <button class="button button-small" type="button" on:click=toggle>
                                        {button_text}
                                    </button>
                                </td>
                            </tr>
                            <Show when=is_open>
                                <tr class="task-log-row">
                                    <td colspan="5"><TaskLogView id upid=log_upid.clone() /></td>
                                </tr>
                            </Show>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// One task's log lines.
#[component]
fn TaskLogView(id: ContainerId, upid: String) -> impl IntoView {
    let log = LocalResource::new(move || container_task_log(id, upid.clone()));
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the log…"</p> }>
            {move || log.get().map(|result| match result {
                Ok(log) => view! {
                    <pre class="task-log" aria-label="Task log">{log.lines.join("\n")}</pre>
                }.into_any(),
                Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}
