//! The template create and edit form: every field, scripts, files, packages and buckets.

use super::fields::{AreaField, CheckField};
use super::files::FileEditor;
use super::form::TemplateForm;
use super::packages::PackageEditor;
use super::route_id;
use super::scripts::ScriptEditor;
use crate::api::buckets::list_buckets;
use crate::api::templates::{get_template, save_template};
use crate::components::field::{ErrorBanner, TextField, error_for};
use crate::error::AppError;
use domain::template::{Template, TemplateSource};
use domain::{BucketId, FieldErrors, TemplateId};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn TemplateEditPage() -> impl IntoView {
    let route = route_id();
    let form = TemplateForm::new(&Template::default());
    let editing = RwSignal::new(None::<TemplateId>);
    let errors = RwSignal::new(FieldErrors::default());
    let message = RwSignal::new(None::<String>);
    // `None` while loading; then whether the form can be shown.
    let ready = RwSignal::new(None::<Result<(), String>>);

    let loaded = LocalResource::new(move || {
        let route = route.get();
        async move {
            match route {
                None => Ok(None),
                Some(text) => match text.parse::<TemplateId>() {
                    Ok(id) => get_template(id).await.map(Some),
                    Err(_) => Err(AppError::NotFound),
                },
            }
        }
    });
    Effect::new(move || match loaded.get() {
        Some(Ok(Some(detail))) => {
            form.load(&detail.template);
            editing.set(Some(detail.id));
            ready.set(Some(Ok(())));
        }
        Some(Ok(None)) => ready.set(Some(Ok(()))),
        Some(Err(e)) => ready.set(Some(Err(e.to_string()))),
        None => {}
    });

    let save = Action::new_local(move |template: &Template| {
        save_template(editing.get_untracked(), template.clone())
    });
    let navigate = use_navigate();
    Effect::new(move || match save.value().get() {
        Some(Ok(id)) => navigate(&format!("/templates/{id}"), Default::default()),
        Some(Err(AppError::Invalid(fields))) => {
            message.set(Some(AppError::Invalid(fields.clone()).to_string()));
            errors.set(fields);
        }
        Some(Err(e)) => message.set(Some(e.to_string())),
        None => {}
    });
    let submit = move || match form.template() {
        Ok(template) => {
            message.set(None);
            errors.set(FieldErrors::default());
            save.dispatch(template);
        }
        Err(found) => {
            message.set(Some(AppError::Invalid(found.clone()).to_string()));
            errors.set(found);
        }
    };

    let heading = move || match editing.get() {
        Some(_) => format!("Edit template {}", form.name.get()),
        None => "New template".to_owned(),
    };
    view! {
        <h1>{heading}</h1>
        {move || match ready.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(reason)) => {
                view! { <p class="banner banner-error" role="alert">{reason}</p> }.into_any()
            }
            Some(Ok(())) => {
                view! {
                    <form
                        class="template-form"
                        novalidate
                        on:submit=move |ev| {
                            ev.prevent_default();
                            submit();
                        }
                    >
                        <Show when=move || form.source.get() == TemplateSource::Filesystem>
                            <p class="banner banner-warn">
                                "This template comes from the templates folder. "
                                "“Discover templates” replaces changes made here with the folder’s version."
                            </p>
                        </Show>
                        <ErrorBanner message=message />
                        <GeneralSection form errors />
                        <section class="card" aria-labelledby="scripts-heading">
                            <h2 id="scripts-heading">"Scripts"</h2>
                            <p class="muted">"Run in this order after the packages are installed."</p>
                            <ScriptEditor rows=form.scripts errors />
                        </section>
                        <section class="card" aria-labelledby="files-heading">
                            <h2 id="files-heading">"Files"</h2>
                            <p class="muted">"Written into the container before the scripts run."</p>
                            <FileEditor rows=form.files errors />
                        </section>
                        <section class="card" aria-labelledby="packages-heading">
                            <h2 id="packages-heading">"Packages"</h2>
                            <PackageEditor rows=form.packages errors id_prefix="package" />
                            <BucketChooser chosen=form.bucket_ids errors />
                        </section>
                        <ErrorBanner message=message />
                        <div class="form-actions">
                            <button
                                class="button button-primary"
                                type="submit"
                                disabled=move || save.pending().get()
                            >
                                {move || match editing.get() {
                                    Some(_) => "Save template",
                                    None => "Create template",
                                }}
                            </button>
                            <a
                                class="button button-quiet"
                                href=move || match editing.get() {
                                    Some(id) => format!("/templates/{id}"),
                                    None => "/templates".to_owned(),
                                }
                            >
                                "Cancel"
                            </a>
                        </div>
                    </form>
                }
                    .into_any()
            }
        }}
    }
}

/// Name, description, OS, resources and container features.
#[component]
fn GeneralSection(form: TemplateForm, errors: RwSignal<FieldErrors>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="general-heading">
            <h2 id="general-heading">"Template"</h2>
            <div class="form-grid">
                <TextField id="name" label="Name" value=form.name error=error_for(errors, "name") />
                <TextField
                    id="os_template"
                    label="OS template"
                    value=form.os_template
                    error=error_for(errors, "os_template")
                    placeholder="debian-12-standard"
                    hint="The start of the template file name on the node's storage."
                />
                <AreaField
                    id="description".to_owned()
                    label="Description"
                    value=form.description
                    error=error_for(errors, "description")
                    rows=3
                />
                <TextField
                    id="tags"
                    label="Tags"
                    value=form.tags
                    error=error_for(errors, "tags")
                    placeholder="web, debian"
                    hint="Separate tags with commas."
                />
                <TextField id="version" label="Version" value=form.version error=error_for(errors, "version") />
            </div>
        </section>
        <section class="card" aria-labelledby="resources-heading">
            <h2 id="resources-heading">"Default resources"</h2>
            <p class="muted">"The wizard starts from these; each container can change them."</p>
            <div class="form-grid form-grid-numbers">
                <TextField id="cores" label="CPU cores" value=form.cores error=error_for(errors, "cores") input_type="number" />
                <TextField id="memory_mib" label="Memory (MiB)" value=form.memory_mib error=error_for(errors, "memory_mib") input_type="number" />
                <TextField id="swap_mib" label="Swap (MiB)" value=form.swap_mib error=error_for(errors, "swap_mib") input_type="number" />
                <TextField id="disk_gib" label="Disk (GiB)" value=form.disk_gib error=error_for(errors, "disk_gib") input_type="number" />
                <TextField
                    id="storage"
                    label="Storage"
                    value=form.storage
                    error=error_for(errors, "storage")
                    placeholder="local-lvm"
                    hint="Leave empty to choose in the wizard."
                />
                <TextField
                    id="bridge"
                    label="Network bridge"
                    value=form.bridge
                    error=error_for(errors, "bridge")
                    placeholder="vmbr0"
                    hint="Leave empty to choose in the wizard."
                />
            </div>
            <fieldset class="field features">
                <legend>"Container features"</legend>
                <CheckField id="unprivileged".to_owned() label="Unprivileged container" checked=form.unprivileged hint="Recommended: root in the container is not root on the node." />
                <CheckField id="nesting".to_owned() label="Nesting (needed by systemd and Docker)" checked=form.nesting />
                <CheckField id="keyctl".to_owned() label="keyctl (needed by Docker in unprivileged containers)" checked=form.keyctl />
                <CheckField id="fuse".to_owned() label="FUSE mounts" checked=form.fuse />
            </fieldset>
        </section>
    }
}

/// Ticks for the package buckets the template includes.
#[component]
fn BucketChooser(chosen: RwSignal<Vec<BucketId>>, errors: RwSignal<FieldErrors>) -> impl IntoView {
    let buckets = LocalResource::new(list_buckets);
    let error = error_for(errors, "bucket_ids");
    view! {
        <fieldset class="field bucket-choice" id="bucket_ids">
            <legend>"Package buckets"</legend>
            <p class="field-hint">
                "The template also installs every package of the buckets ticked here. "
                <a href="/buckets">"Manage buckets"</a>
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || buckets.get().map(|result| match result {
                    Ok(list) if list.is_empty() => {
                        view! { <p class="muted">"No buckets yet."</p> }.into_any()
                    }
                    Ok(list) => list
                        .into_iter()
                        .map(|b| {
                            let id = b.id;
                            let input_id = format!("bucket-{id}");
                            let label_for = input_id.clone();
                            view! {
                                <label class="radio" for=label_for>
                                    <input
                                        type="checkbox"
                                        id=input_id
                                        prop:checked=move || chosen.with(|c| c.contains(&id))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| {
                                                c.retain(|x| *x != id);
                                                if on {
                                                    c.push(id);
                                                }
                                            });
                                        }
                                    />
                                    {b.bucket.name.clone()}
                                    <span class="muted">
                                        {super::count_text(b.bucket.packages.len() as u32, "package", "packages")}
                                    </span>
                                </label>
                            }
                        })
                        .collect_view()
                        .into_any(),
                    Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
            <Show when=move || error.with(Option::is_some)>
                <p class="field-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
        </fieldset>
    }
}
