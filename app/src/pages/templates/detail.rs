//! One template: its settings, scripts, packages and files in tabs; edit and delete.

use super::{count_text, memory_text, route_id};
use crate::api::templates::{delete_template, get_template};
use crate::error::AppError;
use domain::TemplateId;
use domain::template::{TemplateDetail, TemplateSource};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// The detail page's tabs, in order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Config,
    Scripts,
    Packages,
    Files,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::Config, Tab::Scripts, Tab::Packages, Tab::Files];

    fn slug(self) -> &'static str {
        match self {
            Tab::Config => "config",
            Tab::Scripts => "scripts",
            Tab::Packages => "packages",
            Tab::Files => "files",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Tab::Config => "Config",
            Tab::Scripts => "Scripts",
            Tab::Packages => "Packages",
            Tab::Files => "Files",
        }
    }
}

#[component]
pub fn TemplateDetailPage() -> impl IntoView {
    let route = route_id();
    let detail = LocalResource::new(move || {
        let route = route.get();
        async move {
            match route.and_then(|r| r.parse::<TemplateId>().ok()) {
                Some(id) => get_template(id).await,
                None => Err(AppError::NotFound),
            }
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || detail.get().map(|result| match result {
                Ok(detail) => view! { <TemplateView detail /> }.into_any(),
                Err(e) => view! {
                    <h1>"Template"</h1>
                    <p class="banner banner-error" role="alert">{e.to_string()}</p>
                    <p><a href="/templates">"Back to the templates"</a></p>
                }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn TemplateView(detail: TemplateDetail) -> impl IntoView {
    let tab = RwSignal::new(Tab::Config);
    let id = detail.id;
    let t = &detail.template;
    let bucket_packages: usize = detail.buckets.iter().map(|b| b.bucket.packages.len()).sum();
    let counts = [
        t.scripts.len(),
        t.packages.len() + bucket_packages,
        t.files.len(),
    ];
    let tab_label = move |tab: Tab| match tab {
        Tab::Config => tab.title().to_owned(),
        Tab::Scripts => format!("{} ({})", tab.title(), counts[0]),
        Tab::Packages => format!("{} ({})", tab.title(), counts[1]),
        Tab::Files => format!("{} ({})", tab.title(), counts[2]),
    };
    // Arrow keys move between tabs, as the ARIA tabs pattern expects.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let i = Tab::ALL
            .iter()
            .position(|t| *t == tab.get_untracked())
            .unwrap_or(0);
        let next = match ev.key().as_str() {
            "ArrowRight" => (i + 1) % Tab::ALL.len(),
            "ArrowLeft" => (i + Tab::ALL.len() - 1) % Tab::ALL.len(),
            "Home" => 0,
            "End" => Tab::ALL.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        tab.set(Tab::ALL[next]);
        focus_tab(Tab::ALL[next]);
    };
    view! {
        <div class="page-head">
            <div>
                <h1>{t.name.clone()}</h1>
                <p class="muted">{t.description.clone()}</p>
            </div>
            <DetailActions id />
        </div>
        <div class="tabs" role="tablist" aria-label="Template parts" on:keydown=on_key>
            {Tab::ALL
                .into_iter()
                .map(|this| {
                    view! {
                        <button
                            type="button"
                            role="tab"
                            class="tab"
                            id=format!("tab-{}", this.slug())
                            aria-controls=format!("panel-{}", this.slug())
                            aria-selected=move || if tab.get() == this { "true" } else { "false" }
                            tabindex=move || if tab.get() == this { "0" } else { "-1" }
                            on:click=move |_| tab.set(this)
                        >
                            {tab_label(this)}
                        </button>
                    }
                })
                .collect_view()}
        </div>
        {Tab::ALL
            .into_iter()
            .map(|this| {
                let body = match this {
                    Tab::Config => view! { <ConfigPanel detail=detail.clone() /> }.into_any(),
                    Tab::Scripts => view! { <ScriptsPanel detail=detail.clone() /> }.into_any(),
                    Tab::Packages => view! { <PackagesPanel detail=detail.clone() /> }.into_any(),
                    Tab::Files => view! { <FilesPanel detail=detail.clone() /> }.into_any(),
                };
                view! {
                    <div
                        class="card tab-panel"
                        role="tabpanel"
                        id=format!("panel-{}", this.slug())
                        aria-labelledby=format!("tab-{}", this.slug())
                        tabindex="0"
                        hidden=move || tab.get() != this
                    >
                        {body}
                    </div>
                }
            })
            .collect_view()}
    }
}

/// Moves keyboard focus to a tab button.
fn focus_tab(tab: Tab) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let element = document()
            .get_element_by_id(&format!("tab-{}", tab.slug()))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(element) = element {
            let _ = element.focus();
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = tab;
}

/// Edit, and Delete with a confirmation step.
#[component]
fn DetailActions(id: TemplateId) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let remove = Action::new_local(move |_: &()| delete_template(id));
    Effect::new(move || match remove.value().get() {
        Some(Ok(())) => navigate("/templates", Default::default()),
        Some(Err(e)) => {
            confirming.set(false);
            message.set(Some(e.to_string()));
        }
        None => {}
    });
    view! {
        <div class="actions">
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <a class="button button-primary" href=format!("/templates/{id}/edit")>"Edit template"</a>
                    <button class="button button-danger" type="button" on:click=move |_| confirming.set(true)>
                        "Delete template"
                    </button>
                }
            >
                <span role="alert">"Delete this template? Containers made from it keep running."</span>
                <button
                    class="button button-danger"
                    type="button"
                    disabled=move || remove.pending().get()
                    on:click=move |_| {
                        remove.dispatch(());
                    }
                >
                    "Yes, delete template"
                </button>
                <button class="button" type="button" on:click=move |_| confirming.set(false)>"Keep template"</button>
            </Show>
            {move || message.get().map(|m| view! { <p class="banner banner-error" role="alert">{m}</p> })}
        </div>
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

#[component]
fn ConfigPanel(detail: TemplateDetail) -> impl IntoView {
    let t = detail.template;
    let or_wizard = |v: &str| {
        if v.is_empty() {
            "chosen in the wizard".to_owned()
        } else {
            v.to_owned()
        }
    };
    let source = match t.source {
        TemplateSource::Filesystem => "templates folder",
        TemplateSource::Custom => "created in the app",
    };
    view! {
        <dl class="facts">
            <dt>"OS template"</dt><dd>{t.os_template.clone()}</dd>
            <dt>"Version"</dt><dd>{if t.version.is_empty() { "—".to_owned() } else { t.version.clone() }}</dd>
            <dt>"Source"</dt><dd>{source}</dd>
            <dt>"CPU cores"</dt><dd>{t.cores}</dd>
            <dt>"Memory"</dt><dd>{memory_text(t.memory_mib)}</dd>
            <dt>"Swap"</dt><dd>{memory_text(t.swap_mib)}</dd>
            <dt>"Disk"</dt><dd>{format!("{} GiB", t.disk_gib)}</dd>
            <dt>"Storage"</dt><dd>{or_wizard(&t.storage)}</dd>
            <dt>"Network bridge"</dt><dd>{or_wizard(&t.bridge)}</dd>
            <dt>"Unprivileged"</dt><dd>{yes_no(t.unprivileged)}</dd>
            <dt>"Nesting"</dt><dd>{yes_no(t.nesting)}</dd>
            <dt>"keyctl"</dt><dd>{yes_no(t.keyctl)}</dd>
            <dt>"FUSE"</dt><dd>{yes_no(t.fuse)}</dd>
            <dt>"Tags"</dt><dd>{if t.tags.is_empty() { "none".to_owned() } else { t.tags.join(", ") }}</dd>
        </dl>
    }
}

#[component]
fn ScriptsPanel(detail: TemplateDetail) -> impl IntoView {
    let scripts = detail.template.scripts;
    if scripts.is_empty() {
        return view! { <p class="muted">"This template runs no scripts."</p> }.into_any();
    }
    view! {
        <ol class="detail-list">
            {scripts.into_iter().map(|s| view! {
                <li>
                    <details>
                        <summary>
                            <code>{s.name.clone()}</code>
                            {(!s.enabled).then(|| view! { " " <span class="chip chip-quiet">"disabled"</span> })}
                            {(!s.description.is_empty()).then(|| view! { <span class="muted">{format!(" — {}", s.description)}</span> })}
                        </summary>
                        <pre class="code-block">{s.content.clone()}</pre>
                    </details>
                </li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
fn PackagesPanel(detail: TemplateDetail) -> impl IntoView {
    let packages = detail.template.packages;
    let table = |packages: Vec<domain::template::Package>| {
        view! {
            <table class="data-table">
                <thead><tr><th scope="col">"Package"</th><th scope="col">"Installed with"</th><th scope="col">"Version"</th></tr></thead>
                <tbody>
                    {packages.into_iter().map(|p| view! {
                        <tr>
                            <td><code>{p.name.clone()}</code></td>
                            <td>{p.manager.as_str()}</td>
                            <td>{p.version.clone().unwrap_or_else(|| "latest".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    };
    view! {
        <h2>"Template packages"</h2>
        {if packages.is_empty() {
            view! { <p class="muted">"None of its own."</p> }.into_any()
        } else {
            table(packages).into_any()
        }}
        <h2>"Included buckets"</h2>
        {if detail.buckets.is_empty() {
            view! { <p class="muted">"No buckets."</p> }.into_any()
        } else {
            detail.buckets.into_iter().map(|b| view! {
                <section class="bucket-block">
                    <h3>{b.bucket.name.clone()}" "<span class="muted">{count_text(b.bucket.packages.len() as u32, "package", "packages")}</span></h3>
                    {table(b.bucket.packages)}
                </section>
            }).collect_view().into_any()
        }}
    }
}

#[component]
fn FilesPanel(detail: TemplateDetail) -> impl IntoView {
    let files = detail.template.files;
    if files.is_empty() {
        return view! { <p class="muted">"This template writes no files."</p> }.into_any();
    }
    view! {
        <ul class="detail-list">
            {files.into_iter().map(|f| {
                let policy = match f.policy {
                    domain::template::FilePolicy::Replace => "replaces an existing file",
                    domain::template::FilePolicy::Default => "only if missing",
                    domain::template::FilePolicy::Backup => "keeps the old one as .bak",
                };
                view! {
                    <li>
                        <details>
                            <summary><code>{f.target_path()}</code><span class="muted">{format!(" — {policy}")}</span></summary>
                            <pre class="code-block">{f.content.clone()}</pre>
                        </details>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
