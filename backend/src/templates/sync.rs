//! Syncs the templates folder into the database, idempotently: new templates are added, changed
//! ones updated in place (same id), unchanged ones left alone; a broken folder is reported and
//! does not stop the rest. Templates created in the app (`custom`) are never overwritten, and
//! the buckets a user added to a folder template in the app are kept.

use super::{Issue, folder};
use crate::models::template;
use diesel_async::AsyncPgConnection;
use domain::template::{Template, TemplateSource};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    /// Problems, each with its file (and line when known); those templates were skipped.
    pub issues: Vec<Issue>,
}

/// Why a sync could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot read the templates folder {path}: {reason}")]
    Folder { path: String, reason: String },
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

/// Reads every sub-folder of `dir` that holds a `template.conf` and syncs it.
pub async fn sync_folder(
    conn: &mut AsyncPgConnection,
    dir: &Path,
) -> Result<SyncReport, SyncError> {
    let read = std::fs::read_dir(dir).map_err(|e| SyncError::Folder {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut folders: Vec<_> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("template.conf").is_file())
        .collect();
    folders.sort();
    let mut report = SyncReport::default();
    let mut seen = std::collections::HashSet::new();
    for path in folders {
        let (found, warnings) = match folder::read(&path) {
            Ok(found) => found,
            Err(issues) => {
                report.issues.extend(issues);
                continue;
            }
        };
        report.issues.extend(warnings);
        if !seen.insert(found.name.clone()) {
            report.issues.push(Issue {
                path: path.join("template.conf").display().to_string(),
                line: None,
                message: format!(
                    "another folder already defines the template {:?}",
                    found.name
                ),
            });
            continue;
        }
        match template::find_id_by_name(conn, &found.name).await? {
            None => {
                template::insert(conn, &found).await?;
                report.added.push(found.name);
            }
            Some(id) => {
                let existing = template::load(conn, id).await?.template;
                // The folder cannot name buckets: keep the ones a user chose in the app.
                let found = Template {
                    bucket_ids: existing.bucket_ids.clone(),
                    ..found
                };
                if existing.source == TemplateSource::Custom {
                    report.issues.push(Issue {
                        path: path.join("template.conf").display().to_string(),
                        line: None,
                        message: format!(
                            "a template named {:?} was created in the app; rename one of them",
                            found.name
                        ),
                    });
                } else if existing == found {
                    report.unchanged.push(found.name);
                } else {
                    template::update(conn, id, &found).await?;
                    report.updated.push(found.name);
                }
            }
        }
    }
    Ok(report)
}
