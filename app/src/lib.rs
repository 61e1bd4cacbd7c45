//! The infrahaus user interface: Leptos components and the `#[server]` functions they call.
//!
//! Built twice: with `csr` for the browser (Trunk, wasm32; no database code) and with `ssr` for
//! the server, where the server function bodies run with access to PostgreSQL and Redis through
//! the [`ssr::ServerContext`] the server provides.

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod ssr;

use components::shell::Shell;
use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, path};
use pages::{login::LoginPage, not_found::NotFoundPage};
use routes::*;

/// The whole application: routes, with every page but the login page inside the signed-in shell
/// and loaded lazily ([`routes`]).
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view={Lazy::<DashboardRoute>::new()} />
                    <Route path=path!("settings") view={Lazy::<SettingsRoute>::new()} />
                    <Route path=path!("users") view={Lazy::<UsersRoute>::new()} />
                    <Route path=path!("account") view={Lazy::<AccountRoute>::new()} />
                    <Route path=path!("templates") view={Lazy::<TemplatesRoute>::new()} />
                    <Route path=path!("templates/new") view={Lazy::<TemplateEditRoute>::new()} />
                    <Route path=path!("templates/:id") view={Lazy::<TemplateDetailRoute>::new()} />
                    <Route path=path!("templates/:id/edit") view={Lazy::<TemplateEditRoute>::new()} />
                    <Route path=path!("buckets") view={Lazy::<BucketsRoute>::new()} />
                    <Route path=path!("containers") view={Lazy::<ContainersRoute>::new()} />
                    <Route path=path!("containers/new") view={Lazy::<WizardRoute>::new()} />
                    <Route path=path!("containers/:id") view={Lazy::<ContainerDetailRoute>::new()} />
                    <Route path=path!("containers/:id/progress") view={Lazy::<ProgressRoute>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
