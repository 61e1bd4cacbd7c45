//! Templates from the filesystem: one folder per template, parsed as data (never executed) and
//! synced into the database.
//!
//! ```text
//! templates/NAME/template.conf                          TEMPLATE_* assignments
//! templates/NAME/container-configs/files/FILE           content, with FILE.path and FILE.policy
//! templates/NAME/container-configs/packages/B.apt|npm|pip|custom   one package per line
//! templates/NAME/container-configs/scripts/NN-name.sh   run in NN order
//! ```

pub mod conf;
pub mod folder;
pub mod sync;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The templates folder: `INFRAHAUS_TEMPLATES_DIR`, else `templates` (relative to the working
/// directory).
pub fn configured_dir() -> Result<PathBuf, crate::config::ConfigError> {
    crate::config::var_or("INFRAHAUS_TEMPLATES_DIR", "templates").map(PathBuf::from)
}

/// A problem found in a template folder: the file, the line when known, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub path: String,
    pub line: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path, line, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}
