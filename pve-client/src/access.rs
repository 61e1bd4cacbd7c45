//! Effective privileges: `GET /access/permissions`.
//!
//! The answer maps ACL path to privilege to "propagates" (`0`/`1`). With `path=` PVE computes
//! the effective privileges on exactly that path, inheritance included, so checks ask per path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::client::PveClient;
use crate::decode::Flag;
use crate::error::PveError;

/// Privileges per ACL path for the calling user or token.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Permissions {
    /// Path → privilege → whether it propagates to child paths.
    pub paths: BTreeMap<String, BTreeMap<String, bool>>,
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw =
            Option::<BTreeMap<String, Option<BTreeMap<String, Flag>>>>::deserialize(deserializer)?
                .unwrap_or_default();
        Ok(Permissions {
            paths: raw
                .into_iter()
                .map(|(path, privs)| {
                    let privs = privs
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(p, f)| (p, f.0))
                        .collect();
                    (path, privs)
                })
                .collect(),
        })
    }
}

impl Permissions {
    /// True when `privilege` is granted on exactly `path` (as PVE computed it for that path).
    pub fn has(&self, path: &str, privilege: &str) -> bool {
        self.paths
            .get(path)
            .is_some_and(|privs| privs.contains_key(privilege))
    }

    /// True when any of the `|`-separated privileges is granted on `path`.
    pub fn has_any(&self, path: &str, privileges: &str) -> bool {
        privileges.split('|').any(|p| self.has(path, p.trim()))
    }
}

impl PveClient {
    /// `GET /access/permissions`, for one path or (with `None`) the whole tree.
    pub async fn permissions(&self, path: Option<&str>) -> Result<Permissions, PveError> {
        let query: Vec<(&str, String)> = path.map(|p| ("path", p.to_owned())).into_iter().collect();
        self.get(&["access", "permissions"], &query).await
    }
}
