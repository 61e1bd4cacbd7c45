//! Package buckets: create, rename, edit packages, delete.

use super::count_text;
use super::fields::AreaField;
use super::packages::{PackageEditor, PackageRow, packages_of, rows_of};
use crate::api::buckets::{delete_bucket, list_buckets, save_bucket};
use crate::components::field::{ErrorBanner, TextField, error_for};
use crate::error::AppError;
use domain::template::{Bucket, BucketDetail};
use domain::{BucketId, FieldErrors};
use leptos::prelude::*;

/// The bucket form's inputs.
#[derive(Clone, Copy)]
struct BucketForm {
    editing: RwSignal<Option<BucketId>>,
    name: RwSignal<String>,
    description: RwSignal<String>,
    packages: RwSignal<Vec<PackageRow>>,
}

impl BucketForm {
    fn new() -> Self {
        Self {
            editing: RwSignal::new(None),
            name: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            packages: RwSignal::new(Vec::new()),
        }
    }

    fn load(&self, bucket: Option<&BucketDetail>) {
        self.editing.set(bucket.map(|b| b.id));
        self.name
            .set(bucket.map(|b| b.bucket.name.clone()).unwrap_or_default());
        self.description.set(
            bucket
                .map(|b| b.bucket.description.clone())
                .unwrap_or_default(),
        );
        self.packages.set(
            bucket
                .map(|b| rows_of(&b.bucket.packages))
                .unwrap_or_default(),
        );
    }

    fn bucket(&self) -> Bucket {
        Bucket {
            name: self.name.get_untracked(),
            description: self.description.get_untracked(),
            packages: self.packages.with_untracked(|r| packages_of(r)),
        }
    }
}

#[component]
pub fn BucketsPage() -> impl IntoView {
    let buckets = LocalResource::new(list_buckets);
    let form = BucketForm::new();
    let form_open = RwSignal::new(false);
    let errors = RwSignal::new(FieldErrors::default());
    let message = RwSignal::new(None::<String>);

    let save = Action::new_local(move |bucket: &Bucket| {
        save_bucket(form.editing.get_untracked(), bucket.clone())
    });
    Effect::new(move || match save.value().get() {
        Some(Ok(_)) => {
            form_open.set(false);
            buckets.refetch();
        }
        Some(Err(e)) => show_error(e, errors, message),
        None => {}
    });
    let submit = move || {
        let bucket = form.bucket();
        match bucket.validated() {
            Ok(_) => {
                errors.set(FieldErrors::default());
                message.set(None);
                save.dispatch(bucket);
            }
            Err(found) => show_error(AppError::Invalid(found), errors, message),
        }
    };

    let list_message = RwSignal::new(None::<String>);
    let remove = Action::new_local(|id: &BucketId| delete_bucket(*id));
    Effect::new(move || match remove.value().get() {
        Some(Ok(())) => buckets.refetch(),
        Some(Err(e)) => list_message.set(Some(e.to_string())),
        None => {}
    });

    let open_form = move |bucket: Option<BucketDetail>| {
        form.load(bucket.as_ref());
        errors.set(FieldErrors::default());
        message.set(None);
        form_open.set(true);
    };

    view! {
        <div class="page-head">
            <div>
                <h1>"Package buckets"</h1>
                <p class="muted">"Named package lists a template can include, so common tools are listed once."</p>
            </div>
            <button class="button button-primary" type="button" on:click=move |_| open_form(None)>
                "New bucket"
            </button>
        </div>
        <Show when=move || form_open.get()>
            <section class="card" aria-labelledby="bucket-form-heading">
                <h2 id="bucket-form-heading">
                    {move || if form.editing.get().is_some() { "Edit bucket" } else { "New bucket" }}
                </h2>
                <form
                    novalidate
                    on:submit=move |ev| {
                        ev.prevent_default();
                        submit();
                    }
                >
                    <ErrorBanner message=message />
                    <div class="form-grid">
                        <TextField id="bucket-name" label="Bucket name" value=form.name error=error_for(errors, "name") />
                        <AreaField
                            id="bucket-description".to_owned()
                            label="Description"
                            value=form.description
                            error=error_for(errors, "description")
                            rows=2
                        />
                    </div>
                    <h3>"Packages"</h3>
                    <PackageEditor rows=form.packages errors id_prefix="bucket-package" />
                    <div class="form-actions">
                        <button class="button button-primary" type="submit" disabled=move || save.pending().get()>
                            "Save bucket"
                        </button>
                        <button class="button button-quiet" type="button" on:click=move |_| form_open.set(false)>
                            "Cancel"
                        </button>
                    </div>
                </form>
            </section>
        </Show>
        <ErrorBanner message=list_message />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || buckets.get().map(|result| match result {
                Err(e) => view! { <p class="banner banner-error" role="alert">{e.to_string()}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="muted">"No buckets yet."</p> }.into_any(),
                Ok(list) => view! {
                    <ul class="bucket-list" data-testid="bucket-list">
                        {list.into_iter().map(|bucket| view! {
                            <BucketCard bucket on_edit=open_form on_delete=move |id| { remove.dispatch(id); } />
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Suspense>
    }
}

fn show_error(error: AppError, errors: RwSignal<FieldErrors>, message: RwSignal<Option<String>>) {
    message.set(Some(error.to_string()));
    errors.set(error.field_errors());
}

/// One bucket with its packages, Edit and a two-step Delete.
#[component]
fn BucketCard(
    bucket: BucketDetail,
    on_edit: impl Fn(Option<BucketDetail>) + Copy + Send + Sync + 'static,
    on_delete: impl Fn(BucketId) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let id = bucket.id;
    let for_edit = bucket.clone();
    let packages = bucket
        .bucket
        .packages
        .iter()
        .map(|p| match &p.version {
            Some(v) => format!("{} {} ({v})", p.manager, p.name),
            None => format!("{} {}", p.manager, p.name),
        })
        .collect::<Vec<_>>();
    view! {
        <li class="card bucket-card" data-testid="bucket-card">
            <div class="card-head">
                <h2>{bucket.bucket.name.clone()}</h2>
                <div class="actions">
                    <Show
                        when=move || confirming.get()
                        fallback=move || {
                            let for_edit = for_edit.clone();
                            view! {
                                <button class="button" type="button" on:click=move |_| on_edit(Some(for_edit.clone()))>
                                    "Edit bucket"
                                </button>
                                <button class="button button-danger" type="button" on:click=move |_| confirming.set(true)>
                                    "Delete bucket"
                                </button>
                            }
                        }
                    >
                        <span role="alert">"Delete this bucket? Templates that include it will no longer install its packages."</span>
                        <button class="button button-danger" type="button" on:click=move |_| on_delete(id)>
                            "Yes, delete bucket"
                        </button>
                        <button class="button" type="button" on:click=move |_| confirming.set(false)>"Keep bucket"</button>
                    </Show>
                </div>
            </div>
            {(!bucket.bucket.description.is_empty()).then(|| view! { <p class="muted">{bucket.bucket.description.clone()}</p> })}
            <p>
                <strong>{count_text(packages.len() as u32, "package", "packages")}</strong>
                {(!packages.is_empty()).then(|| format!(": {}", packages.join(", ")))}
            </p>
        </li>
    }
}
