//! The commands a check runs in the container and what their output means:
//! `systemctl show --property=LoadState,ActiveState -- UNIT` per unit, `journalctl -u UNIT -n 20
//! --no-pager` for a failed one, and `ss -tln` once for the listening ports. Unit names are
//! checked to be unit names and passed as quoted words; nothing else from the database reaches
//! the container.

use std::collections::BTreeMap;

use domain::container::ServiceInfo;
use domain::health::{PortState, ServiceHealth, UnitState};
use remote_shell::{AnyTarget, Command, ExecOptions, RemoteTarget};

use super::HealthSettings;
use crate::pipeline::services::listeners;

/// Journal lines shown for a failed unit.
pub const JOURNAL_LINES: usize = 20;
/// Longest journal line kept, in characters.
const JOURNAL_LINE_CHARS: usize = 500;

/// What the commands found.
pub(super) struct Probed {
    pub services: Vec<ServiceHealth>,
    /// The first command that failed, in words.
    pub problem: Option<String>,
}

/// Checks each of `services` in the container behind `target`.
pub(super) async fn probe(
    target: &AnyTarget,
    services: &[ServiceInfo],
    settings: &HealthSettings,
) -> Probed {
    let opts = ExecOptions {
        timeout: settings.command_timeout,
        output_limit: 256 * 1024,
    };
    let mut problem = None;
    let mut units: BTreeMap<&str, (UnitState, Vec<String>)> = BTreeMap::new();
    for service in services {
        if units.contains_key(service.name.as_str()) {
            continue;
        }
        let found = match unit_health(target, &service.name, &opts).await {
            Ok(found) => found,
            Err(e) => {
                problem.get_or_insert(e);
                (UnitState::Unknown, Vec::new())
            }
        };
        units.insert(&service.name, found);
    }
    let ports = if services.iter().any(|s| s.port.is_some()) {
        match listening_ports(target, &opts).await {
            Ok(ports) => Some(ports),
            Err(e) => {
                problem.get_or_insert(e);
                None
            }
        }
    } else {
        Some(Vec::new())
    };
    let services = services
        .iter()
        .map(|s| {
            let (unit, journal) = units
                .get(s.name.as_str())
                .cloned()
                .unwrap_or((UnitState::Unknown, Vec::new()));
            let port_state = s.port.map(|port| match &ports {
                Some(ports) if ports.contains(&port) => PortState::Listening,
                Some(_) => PortState::Closed,
                None => PortState::Unknown,
            });
            ServiceHealth {
                name: s.name.clone(),
                port: s.port,
                unit,
                port_state,
                journal,
            }
        })
        .collect();
    Probed { services, problem }
}

/// The unit's state, and its last journal lines when it failed.
async fn unit_health(
    target: &AnyTarget,
    name: &str,
    opts: &ExecOptions,
) -> Result<(UnitState, Vec<String>), String> {
    let Some(unit) = unit_name(name) else {
        return Ok((UnitState::NoUnit, Vec::new()));
    };
    let show = Command::new("systemctl").args([
        "show",
        "--property=LoadState,ActiveState",
        "--",
        unit.as_str(),
    ]);
    let out = target
        .exec_capture(&show, opts)
        .await
        .and_then(|o| o.checked())
        .map_err(|e| format!("Reading the state of {unit} failed: {e}"))?;
    let state = unit_state(&out.stdout_lossy());
    if state != UnitState::Failed {
        return Ok((state, Vec::new()));
    }
    let journal = Command::new("journalctl").args([
        "-u",
        unit.as_str(),
        "-n",
        &JOURNAL_LINES.to_string(),
        "--no-pager",
    ]);
    let out = target
        .exec_capture(&journal, opts)
        .await
        .and_then(|o| o.checked())
        .map_err(|e| format!("Reading the journal of {unit} failed: {e}"))?;
    Ok((state, journal_lines(&out.stdout_lossy())))
}

/// The TCP ports something listens on, from `ss -tln`.
async fn listening_ports(target: &AnyTarget, opts: &ExecOptions) -> Result<Vec<u16>, String> {
    let out = target
        .exec_capture(&Command::new("ss").arg("-tln"), opts)
        .await
        .and_then(|o| o.checked())
        .map_err(|e| format!("Listing the listening ports failed: {e}"))?;
    Ok(listeners(&out.stdout_lossy())
        .into_iter()
        .map(|l| l.port)
        .collect())
}

/// `NAME.service` when `name` can be a unit name (letters, digits and `:_.@-\`, not starting
/// with `-`); a discovered listening process with another name has no unit.
pub fn unit_name(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.' | '@' | '-' | '\\'));
    valid.then(|| format!("{name}.service"))
}

/// The state in `systemctl show --property=LoadState,ActiveState` output.
pub fn unit_state(output: &str) -> UnitState {
    let value = |key: &str| {
        output
            .lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
    };
    match (value("LoadState"), value("ActiveState")) {
        (Some(load), Some(active)) => UnitState::from_systemd(load, active),
        _ => UnitState::Unknown,
    }
}

/// The journal's lines without journalctl's own notes (`-- No entries --`, `-- Boot … --`),
/// control characters and overlong tails, at most [`JOURNAL_LINES`].
pub fn journal_lines(output: &str) -> Vec<String> {
    let lines: Vec<String> = output
        .lines()
        .filter(|line| !(line.starts_with("-- ") && line.ends_with(" --")))
        .map(|line| {
            line.chars()
                .map(|c| {
                    if c.is_control() && c != '\t' {
                        '\u{fffd}'
                    } else {
                        c
                    }
                })
                .take(JOURNAL_LINE_CHARS)
                .collect()
        })
        .collect();
    let skip = lines.len().saturating_sub(JOURNAL_LINES);
    lines.into_iter().skip(skip).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_are_checked_before_they_are_sent() {
        assert_eq!(unit_name("nginx").as_deref(), Some("nginx.service"));
        assert_eq!(
            unit_name("getty@tty1").as_deref(),
            Some("getty@tty1.service")
        );
        for bad in ["", "-nginx", "a b", "x;reboot", "$(id)", "a'b", "a\nb"] {
            assert_eq!(unit_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reads_systemctl_show() {
        assert_eq!(
            unit_state("ActiveState=failed\nLoadState=loaded\n"),
            UnitState::Failed
        );
        assert_eq!(
            unit_state("LoadState=loaded\nActiveState=active\n"),
            UnitState::Active
        );
        assert_eq!(
            unit_state("LoadState=not-found\nActiveState=inactive\n"),
            UnitState::NoUnit
        );
        assert_eq!(unit_state("garbage"), UnitState::Unknown);
    }

    #[test]
    fn journal_lines_drop_notes_and_control_characters() {
        assert!(journal_lines("-- No entries --\n").is_empty());
        let many: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let kept = journal_lines(&many);
        assert_eq!(kept.len(), JOURNAL_LINES);
        assert_eq!(kept[0], "line 11");
        assert_eq!(journal_lines("a\u{1b}[31mred\n"), ["a\u{fffd}[31mred"]);
    }
}
