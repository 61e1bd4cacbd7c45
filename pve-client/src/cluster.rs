//! Cluster-wide calls: `/version`, `/cluster/nextid`, `/cluster/resources`.

use serde::{Deserialize, Serialize};

use crate::client::PveClient;
use crate::decode::{bool_from_int, number_or_string, opt_number_or_string};
use crate::error::PveError;

/// `GET /version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Full pve-manager version (`9.0.3`; PVE 7: `7.4-16`).
    pub version: String,
    /// Point release, `x.y`.
    pub release: String,
    /// Short git revision.
    #[serde(default)]
    pub repoid: String,
    /// Default console viewer.
    #[serde(default)]
    pub console: Option<String>,
}

impl VersionInfo {
    /// The major version (7, 8, 9), read from `release` or `version`.
    pub fn major(&self) -> Option<u32> {
        [&self.release, &self.version]
            .into_iter()
            .find_map(|v| v.split(['.', '-']).next()?.trim().parse().ok())
    }
}

/// Whether a given VMID can be used for a new guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VmidAvailability {
    /// Nobody uses it.
    Free,
    /// A guest already has it; `reason` is PVE's text (`VM 200 already exists`).
    Taken { reason: String },
}

/// One row of `GET /cluster/resources` (nodes, guests, storages, SDN zones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterResource {
    /// `qemu/100`, `lxc/101`, `node/pve`, `storage/pve/local`, ... (absent on PVE 6).
    #[serde(default)]
    pub id: String,
    /// `qemu`, `lxc`, `node`, `storage`, `sdn`, `pool`, ...
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub vmid: Option<u32>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub storage: Option<String>,
    #[serde(default, deserialize_with = "bool_from_int")]
    pub template: bool,
    #[serde(default)]
    pub tags: Option<String>,
}

/// `data` of `/cluster/nextid`: a string on real servers, a number on some others.
#[derive(Deserialize)]
struct NextId(#[serde(deserialize_with = "number_or_string")] u32);

impl PveClient {
    /// `GET /version`: the PVE version of the node answering.
    pub async fn version(&self) -> Result<VersionInfo, PveError> {
        self.get(&["version"], &[]).await
    }

    /// `GET /cluster/nextid`: the next free VMID.
    pub async fn next_vmid(&self) -> Result<u32, PveError> {
        let id: NextId = self.get(&["cluster", "nextid"], &[]).await?;
        Ok(id.0)
    }

    /// `GET /cluster/nextid?vmid=N`: whether `vmid` is free right now.
    pub async fn check_vmid(&self, vmid: u32) -> Result<VmidAvailability, PveError> {
        match self
            .get::<NextId>(&["cluster", "nextid"], &[("vmid", vmid.to_string())])
            .await
        {
            Ok(_) => Ok(VmidAvailability::Free),
            Err(PveError::InvalidParameters { errors, .. }) if errors.contains_key("vmid") => {
                let reason = errors.get("vmid").cloned().unwrap_or_default();
                // Out-of-range IDs are parameter errors too, not "taken".
                if reason.contains("already exists") {
                    Ok(VmidAvailability::Taken { reason })
                } else {
                    Err(PveError::InvalidParameters {
                        message: "Parameter verification failed.".into(),
                        errors: [("vmid".to_owned(), reason)].into(),
                    })
                }
            }
            Err(other) => Err(other),
        }
    }

    /// `GET /cluster/resources`, optionally filtered by `type` (`vm`, `storage`, `node`, `sdn`).
    pub async fn cluster_resources(
        &self,
        kind: Option<&str>,
    ) -> Result<Vec<ClusterResource>, PveError> {
        let query: Vec<(&str, String)> = kind.map(|k| ("type", k.to_owned())).into_iter().collect();
        self.get(&["cluster", "resources"], &query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_version_from_either_field() {
        let v = |version: &str, release: &str| VersionInfo {
            version: version.into(),
            release: release.into(),
            repoid: String::new(),
            console: None,
        };
        assert_eq!(v("9.0.3", "9.0").major(), Some(9));
        assert_eq!(v("7.4-16", "").major(), Some(7));
        assert_eq!(v("", "").major(), None);
    }
}
