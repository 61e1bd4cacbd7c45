//! A ready container's services with their health: each unit's systemd state, whether its port
//! is listening, a failed unit's last journal lines, when that was checked, and "Check now".
//! The page asks for a check when it opens without a recent one and again every few minutes
//! while it stays open (the period comes with each report); while a check runs it asks for the
//! result every [`POLL_EVERY`] seconds.

use crate::api::health::{
    HealthReport, HealthView, PortState, ServiceHealth, UnitState, check_service_health,
    get_service_health,
};
use domain::ContainerId;
use domain::container::ServiceInfo;
use leptos::prelude::*;
use std::time::Duration;

/// Seconds between reads of the result while a check runs.
const POLL_EVERY: u64 = 2;

#[component]
pub fn ServiceHealthList(id: ContainerId, services: Vec<ServiceInfo>) -> impl IntoView {
    if services.is_empty() {
        return view! { <p class="muted">"No listening services were found."</p> }.into_any();
    }
    let health = RwSignal::new(None::<HealthView>);
    // Seconds since `health` was received: its age grows with it.
    let since = RwSignal::new(0_u64);
    let message = RwSignal::new(None::<String>);
    // Cleared when a check is refused, so the page does not ask again and again on its own.
    let automatic = RwSignal::new(true);
    let read = Action::new_local(move |_: &()| get_service_health(id));
    let check = Action::new_local(move |_: &()| check_service_health(id));
    let take =
        move |result: Option<Result<HealthView, crate::error::AppError>>, asked: bool| match result
        {
            Some(Ok(view)) => {
                health.set(Some(view));
                since.set(0);
                message.set(None);
            }
            Some(Err(e)) => {
                message.set(Some(e.to_string()));
                if asked {
                    automatic.set(false);
                }
            }
            None => {}
        };
    Effect::new(move || take(read.value().get(), false));
    Effect::new(move || take(check.value().get(), true));
    read.dispatch(());
    let tick = move || {
        since.update(|s| *s += 1);
        if read.pending().get_untracked() || check.pending().get_untracked() {
            return;
        }
        let seconds = since.get_untracked();
        match health.get_untracked() {
            // Not read yet, or a check runs: read (again).
            None | Some(HealthView { checking: true, .. }) => {
                if seconds.is_multiple_of(POLL_EVERY) {
                    read.dispatch(());
                }
            }
            Some(view) => {
                let due = match (&view.report, view.age_secs) {
                    (Some(report), Some(age)) => {
                        age + seconds >= u64::from(report.refresh_secs.max(1))
                    }
                    _ => true,
                };
                if due && automatic.get_untracked() {
                    check.dispatch(());
                }
            }
        }
    };
    if let Ok(handle) = set_interval_with_handle(tick, Duration::from_secs(1)) {
        on_cleanup(move || handle.clear());
    }
    let checking =
        move || check.pending().get() || health.with(|h| h.as_ref().is_some_and(|h| h.checking));
    let report = Memo::new(move |_| health.with(|h| h.as_ref().and_then(|h| h.report.clone())));
    let status = move || {
        if checking() {
            return "Checking…".to_owned();
        }
        match health.get() {
            Some(HealthView {
                report: Some(_),
                age_secs: Some(age),
                ..
            }) => format!("Checked {}", ago(age + since.get())),
            Some(_) => "Not checked yet.".to_owned(),
            None => "Loading…".to_owned(),
        }
    };
    let check_now = move |_| {
        automatic.set(true);
        message.set(None);
        check.dispatch(());
    };
    view! {
        <div class="service-health">
            <div class="actions">
                <button class="button" type="button" on:click=check_now disabled=checking>
                    "Check now"
                </button>
                <span class="muted" role="status" data-testid="health-status">{status}</span>
            </div>
            {move || message.get().map(|m| view! { <p class="banner banner-error" role="alert">{m}</p> })}
            {move || report.get().and_then(|r| r.problem).map(|p| view! { <p class="banner banner-warn" role="alert">{p}</p> })}
            {move || report.get().and_then(|r| r.note).map(|n| view! { <p class="muted">{n}</p> })}
            <ul class="plain-list service-list" data-testid="services">
                {services.into_iter().map(|s| view! { <ServiceRow service=s report /> }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

/// One service: name, port and link, then its unit and port state and, when its unit failed,
/// the journal lines.
#[component]
fn ServiceRow(service: ServiceInfo, report: Memo<Option<HealthReport>>) -> impl IntoView {
    let ServiceInfo {
        name,
        port,
        protocol,
        url,
    } = service;
    let key = name.clone();
    let found = Memo::new(move |_| {
        report.with(|r| r.as_ref().and_then(|r| r.service(&key, port).cloned()))
    });
    let port_text = port
        .map(|p| format!("{p}/{protocol}"))
        .unwrap_or_else(|| "no port".into());
    let unit = move || found.get().map(|s| s.unit);
    let unit_name = format!("{name}.service");
    view! {
        <li class="service" data-service=name.clone()>
            <strong>{name.clone()}</strong>
            <span class="muted">{port_text}</span>
            {url.map(|url| view! {
                <a href=url.clone() target="_blank" rel="noopener noreferrer">{format!("Open {url}")}</a>
            })}
            <dl class="facts health-facts">
                <dt>"Unit"</dt>
                <dd data-unit-state=move || unit().map(UnitState::as_str)>{move || unit_text(unit())}</dd>
                {port.map(|p| view! {
                    <dt>{format!("Port {p}")}</dt>
                    <dd>{move || port_text_of(found.get().as_ref())}</dd>
                })}
            </dl>
            {move || {
                let journal = found.get().map(|s| s.journal).unwrap_or_default();
                (!journal.is_empty()).then(|| view! {
                    <details class="journal" open>
                        <summary>{format!("Last journal lines of {unit_name}")}</summary>
                        <pre data-testid="journal">{journal.join("\n")}</pre>
                    </details>
                })
            }}
        </li>
    }
}

fn unit_text(state: Option<UnitState>) -> &'static str {
    match state {
        None => "not checked yet",
        Some(UnitState::Active) => "✓ active",
        Some(UnitState::Activating) => "◔ starting",
        Some(UnitState::Deactivating) => "◔ stopping",
        Some(UnitState::Inactive) => "○ inactive",
        Some(UnitState::Failed) => "✕ failed",
        Some(UnitState::NoUnit) => "no systemd unit",
        Some(UnitState::Unknown) => "unknown",
    }
}

fn port_text_of(service: Option<&ServiceHealth>) -> &'static str {
    match service.and_then(|s| s.port_state) {
        None => "not checked yet",
        Some(PortState::Listening) => "✓ listening",
        Some(PortState::Closed) => "✕ nothing listening",
        Some(PortState::Unknown) => "unknown",
    }
}

/// "12 s ago", "3 min ago", "2 h ago".
fn ago(secs: u64) -> String {
    match secs {
        0..120 => format!("{secs} s ago"),
        120..7200 => format!("{} min ago", secs / 60),
        _ => format!("{} h ago", secs / 3600),
    }
}
