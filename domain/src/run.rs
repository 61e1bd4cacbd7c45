//! Runs: each time a worker builds or rebuilds a container. The first run creates it; each
//! update run applies its template again (deploy, sync and discover) to the running container.
//! Every run's log is the container's progress events from the run's first `seq` on.

use crate::text_enum;
use serde::{Deserialize, Serialize};

text_enum!(
    /// What a run does.
    RunKind {
        /// Create, start, deploy, sync, discover.
        Create => "create",
        /// Deploy, sync and discover again on the running container.
        Update => "update",
    }
);

text_enum!(
    /// Which configuration an update run applies.
    UpdateSource {
        /// The container's stored configuration, as it is.
        Stored => "stored",
        /// The template's current packages (with its buckets), scripts and files in place of
        /// the container's; resources, network and options stay.
        Template => "template",
    }
);

impl UpdateSource {
    /// The choice's label in the re-apply form.
    pub fn label(self) -> &'static str {
        match self {
            UpdateSource::Stored => "The container's stored configuration",
            UpdateSource::Template => "The template's current version",
        }
    }
}

/// One run as the container page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// 1 for the creation, then 2, 3 … per update.
    pub number: i32,
    pub kind: RunKind,
    pub source: Option<UpdateSource>,
    /// The `seq` of the run's first progress event.
    pub first_seq: i64,
    /// When it started, `YYYY-MM-DD HH:MM UTC`.
    pub started: String,
    /// `ready`, `error` or `cancelled` once it ended.
    pub outcome: Option<String>,
    /// Who started it, when known.
    pub started_by: Option<String>,
}

impl RunSummary {
    /// "Creation", "Update (the template's current version)".
    pub fn title(&self) -> String {
        match (self.kind, self.source) {
            (RunKind::Create, _) => "Creation".into(),
            (RunKind::Update, Some(source)) => {
                format!("Update ({})", source.label().to_lowercase())
            }
            (RunKind::Update, None) => "Update".into(),
        }
    }
}

/// How one item of a container's setup differs between its stored configuration and what an
/// update would apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupChange {
    /// `package`, `script` or `file`.
    pub area: String,
    /// The package name, the script name, or the file's path in the container.
    pub name: String,
    /// `added`, `removed` or `changed`.
    pub change: String,
}

/// What re-applying would do: the changes (empty when it applies the same setup again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdatePreview {
    pub source: UpdateSource,
    pub changes: Vec<SetupChange>,
}
