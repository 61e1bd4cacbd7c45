//! The infrahaus user interface: Leptos components and the `#[server]` functions they call.
//!
//! Built twice: with `csr` for the browser (Trunk, wasm32; no database code) and with `ssr` for
//! the server, where the server function bodies run with access to PostgreSQL and Redis through
//! the [`ssr::ServerContext`] the server provides.

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use components::shell::Shell;
use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;
use pages::containers::{
    detail::ContainerDetailPage, list::ContainersPage, progress::ProgressPage,
};
use pages::templates::{
    buckets::BucketsPage, detail::TemplateDetailPage, edit::TemplateEditPage, list::TemplatesPage,
};
use pages::{
    account::AccountPage, dashboard::DashboardPage, login::LoginPage, not_found::NotFoundPage,
    settings::SettingsPage, users::UsersPage, wizard::WizardPage,
};

/// The whole application: routes, with every page but the login page inside the signed-in shell.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=DashboardPage />
                    <Route path=path!("settings") view=SettingsPage />
                    <Route path=path!("users") view=UsersPage />
                    <Route path=path!("account") view=AccountPage />
                    <Route path=path!("templates") view=TemplatesPage />
                    <Route path=path!("templates/new") view=TemplateEditPage />
                    <Route path=path!("templates/:id") view=TemplateDetailPage />
                    <Route path=path!("templates/:id/edit") view=TemplateEditPage />
                    <Route path=path!("buckets") view=BucketsPage />
                    <Route path=path!("containers") view=ContainersPage />
                    <Route path=path!("containers/new") view=WizardPage />
                    <Route path=path!("containers/:id") view=ContainerDetailPage />
                    <Route path=path!("containers/:id/progress") view=ProgressPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
