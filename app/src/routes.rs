//! The signed-in pages as lazy routes, so the login page does not load their code.
//!
//! Built with `--cfg infrahaus_split` (scripts/web-build.sh does), each page's code is a split
//! point: `wasm-split` moves what only that page uses into a module of its own that the browser
//! fetches on the first visit. Without the flag (`trunk build`) the same routes render the page
//! directly from the one module.

use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::pages::containers::{
    detail::ContainerDetailPage, list::ContainersPage, progress::ProgressPage,
};
use crate::pages::templates::{
    buckets::BucketsPage, detail::TemplateDetailPage, edit::TemplateEditPage, list::TemplatesPage,
};
use crate::pages::{
    account::AccountPage, dashboard::DashboardPage, settings::SettingsPage, users::UsersPage,
    wizard::WizardPage,
};

/// `lazy_page!(Route, chunk, Page)`: a [`LazyRoute`] named `Route` that shows the component
/// `Page`, whose code goes to the split module `chunk`. Pages of one area share a module: code
/// used by several modules goes to a module per combination of them, so fewer modules mean
/// fewer files, better compression and a shorter build (wasm-opt runs once per file).
macro_rules! lazy_page {
    ($route:ident, $chunk:ident, $page:ident) => {
        #[doc = concat!("The lazy route of [`", stringify!($page), "`].")]
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_: Self) -> AnyView {
                #[cfg(infrahaus_split)]
                {
                    #[leptos::lazy($chunk)]
                    fn load() -> AnyView {
                        view! { <$page /> }.into_any()
                    }
                    load().await
                }
                #[cfg(not(infrahaus_split))]
                {
                    view! { <$page /> }.into_any()
                }
            }
        }
    };
}

lazy_page!(DashboardRoute, dashboard, DashboardPage);
lazy_page!(SettingsRoute, admin, SettingsPage);
lazy_page!(UsersRoute, admin, UsersPage);
lazy_page!(AccountRoute, admin, AccountPage);
lazy_page!(TemplatesRoute, templates, TemplatesPage);
lazy_page!(TemplateEditRoute, templates, TemplateEditPage);
lazy_page!(TemplateDetailRoute, templates, TemplateDetailPage);
lazy_page!(BucketsRoute, templates, BucketsPage);
lazy_page!(ContainersRoute, containers, ContainersPage);
lazy_page!(WizardRoute, wizard, WizardPage);
lazy_page!(ContainerDetailRoute, containers, ContainerDetailPage);
lazy_page!(ProgressRoute, containers, ProgressPage);
