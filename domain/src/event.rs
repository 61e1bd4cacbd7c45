//! Progress events of a container's creation, as stored, published and sent to the browser.

use crate::container::Phase;
use crate::text_enum;
use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

text_enum!(
    /// What a progress event reports.
    EventKind {
        /// A pipeline step started; moves the progress bar.
        Step => "step",
        /// One line of output from a command or script.
        Log => "log",
        /// The container is ready; the last event of a successful run.
        Complete => "complete",
        /// Creation failed; the last event of a failed run.
        Error => "error",
    }
);

impl EventKind {
    /// True for the events that end a run.
    pub fn is_terminal(self) -> bool {
        matches!(self, EventKind::Complete | EventKind::Error)
    }
}

text_enum!(
    /// Which output stream a log line came from.
    LogStream {
        Stdout => "stdout",
        Stderr => "stderr",
    }
);

/// Which of a template's scripts is running.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptProgress {
    pub name: String,
    /// 1-based position among the scripts that run.
    pub index: u32,
    pub total: u32,
}

/// One event of a container's progress. `seq` counts from 1 per container, without gaps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressEvent {
    pub seq: i64,
    pub kind: EventKind,
    pub phase: Phase,
    /// Overall progress, 0 to 100.
    pub percent: u8,
    pub message: String,
    /// Set on `log` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<LogStream>,
    /// Set while a template script runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<ScriptProgress>,
    pub at: DateTime<Utc>,
}

impl ProgressEvent {
    /// True when this event ends the run (`complete` or `error`).
    pub fn is_terminal(&self) -> bool {
        self.kind.is_terminal()
    }

    /// The time of day of `at` in UTC, `HH:MM:SS`. Written out rather than with chrono's
    /// `format`, whose format-string parser the browser app would otherwise link.
    pub fn clock_time(&self) -> String {
        let seconds = self.at.time().num_seconds_from_midnight();
        format!(
            "{:02}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let event = ProgressEvent {
            seq: 7,
            kind: EventKind::Log,
            phase: Phase::Sync,
            percent: 61,
            message: "hello".into(),
            stream: Some(LogStream::Stderr),
            script: Some(ScriptProgress {
                name: "10-base.sh".into(),
                index: 1,
                total: 3,
            }),
            at: "2026-01-02T03:04:05Z".parse().unwrap(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "seq": 7, "kind": "log", "phase": "sync", "percent": 61, "message": "hello",
                "stream": "stderr", "script": {"name": "10-base.sh", "index": 1, "total": 3},
                "at": "2026-01-02T03:04:05Z"
            })
        );
        assert_eq!(
            serde_json::from_value::<ProgressEvent>(json).unwrap(),
            event
        );
    }

    #[test]
    fn optional_fields_may_be_absent() {
        let event: ProgressEvent = serde_json::from_str(
            r#"{"seq":1,"kind":"complete","phase":"finalize","percent":100,"message":"done","at":"2026-01-02T03:04:05Z"}"#,
        )
        .unwrap();
        assert!(event.is_terminal());
        assert_eq!((event.stream, event.script), (None, None));
        assert!(!EventKind::Step.is_terminal());
    }

    #[test]
    fn clock_time_is_chronos_hh_mm_ss_in_utc() {
        let mut event: ProgressEvent = serde_json::from_str(
            r#"{"seq":1,"kind":"log","phase":"sync","percent":1,"message":"","at":"2026-01-02T03:04:05.9+02:00"}"#,
        )
        .unwrap();
        assert_eq!(event.clock_time(), "01:04:05");
        for at in [
            "2026-01-02T00:00:00Z",
            "2026-12-31T23:59:59.999Z",
            "2026-06-15T12:30:07Z",
        ] {
            event.at = at.parse().unwrap();
            assert_eq!(event.clock_time(), event.at.format("%H:%M:%S").to_string());
        }
    }
}
