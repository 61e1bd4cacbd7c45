//! Storages, their content, and the downloadable template index (`aplinfo`).

use serde::{Deserialize, Deserializer, Serialize};

use crate::client::PveClient;
use crate::decode::{bool_from_int, opt_number_or_string};
use crate::error::PveError;

/// The content types this project filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// Container root disks and mount points.
    RootDir,
    /// Container OS templates.
    Template,
    /// VM disk images.
    Images,
}

impl ContentType {
    /// The name PVE uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::RootDir => "rootdir",
            ContentType::Template => "vztmpl",
            ContentType::Images => "images",
        }
    }
}

/// One row of `GET /nodes/{node}/storage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageInfo {
    /// Storage ID (`local`, `local-lvm`).
    pub storage: String,
    /// Plugin type (`dir`, `lvmthin`, `zfspool`, `nfs`, ...).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Allowed content types, from PVE's comma list.
    #[serde(default, deserialize_with = "comma_list")]
    pub content: Vec<String>,
    #[serde(default, deserialize_with = "bool_from_int")]
    pub active: bool,
    /// Absent means enabled; only an explicit `0` disables.
    #[serde(default = "enabled_by_default", deserialize_with = "bool_from_int")]
    pub enabled: bool,
    #[serde(default, deserialize_with = "bool_from_int")]
    pub shared: bool,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub total: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub used: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub avail: Option<u64>,
}

impl StorageInfo {
    /// True when the storage is configured for this content type.
    pub fn accepts(&self, content: ContentType) -> bool {
        self.content.iter().any(|c| c == content.as_str())
    }

    /// True when the storage can be used now (enabled and active).
    pub fn is_usable(&self) -> bool {
        self.enabled && self.active
    }
}

fn enabled_by_default() -> bool {
    true
}

fn comma_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?.unwrap_or_default();
    Ok(text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

/// One row of `GET /nodes/{node}/storage/{storage}/content`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageVolume {
    /// `<storage>:vztmpl/<file>`; what `ostemplate` takes.
    pub volid: String,
    #[serde(default)]
    pub content: Option<String>,
    /// `tzst`, `txz`, `raw`, `iso`, ...
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub size: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub ctime: Option<i64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub vmid: Option<u32>,
}

impl StorageVolume {
    /// The storage ID part of the volid.
    pub fn storage(&self) -> &str {
        self.volid.split_once(':').map_or("", |(s, _)| s)
    }

    /// The file name (`debian-12-standard_12.7-1_amd64.tar.zst`).
    pub fn file_name(&self) -> &str {
        self.volid.rsplit(['/', ':']).next().unwrap_or(&self.volid)
    }
}

/// One downloadable template from `GET /nodes/{node}/aplinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AplTemplate {
    /// File name; downloaded templates get the volid `<storage>:vztmpl/<template>`.
    pub template: String,
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    /// `system`, `turnkeylinux`, ...
    #[serde(default)]
    pub section: Option<String>,
    #[serde(default)]
    pub headline: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

impl PveClient {
    /// `GET /nodes/{node}/storage`, optionally only storages allowing `content`.
    pub async fn storages(
        &self,
        node: &str,
        content: Option<ContentType>,
    ) -> Result<Vec<StorageInfo>, PveError> {
        let query: Vec<(&str, String)> = content
            .map(|c| ("content", c.as_str().to_owned()))
            .into_iter()
            .collect();
        let mut list: Vec<StorageInfo> = self.get(&["nodes", node, "storage"], &query).await?;
        list.sort_by(|a, b| a.storage.cmp(&b.storage));
        Ok(list)
    }

    /// `GET /nodes/{node}/storage/{storage}/content`, optionally of one content type.
    pub async fn storage_content(
        &self,
        node: &str,
        storage: &str,
        content: Option<ContentType>,
    ) -> Result<Vec<StorageVolume>, PveError> {
        let query: Vec<(&str, String)> = content
            .map(|c| ("content", c.as_str().to_owned()))
            .into_iter()
            .collect();
        self.get(&["nodes", node, "storage", storage, "content"], &query)
            .await
    }

    /// The container templates (`vztmpl`) on one storage, sorted by volid.
    pub async fn templates(
        &self,
        node: &str,
        storage: &str,
    ) -> Result<Vec<StorageVolume>, PveError> {
        let mut list = self
            .storage_content(node, storage, Some(ContentType::Template))
            .await?;
        // Some servers ignore the filter; keep only templates.
        list.retain(|v| {
            v.content
                .as_deref()
                .map_or(v.volid.contains(":vztmpl/"), |c| c == "vztmpl")
        });
        list.sort_by(|a, b| a.volid.cmp(&b.volid));
        Ok(list)
    }

    /// `GET /nodes/{node}/aplinfo`: templates the node can download.
    pub async fn aplinfo(&self, node: &str) -> Result<Vec<AplTemplate>, PveError> {
        self.get(&["nodes", node, "aplinfo"], &[]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_enabled_means_enabled() {
        let s: StorageInfo = serde_json::from_value(
            serde_json::json!({"storage": "x", "content": "rootdir,images"}),
        )
        .unwrap();
        assert!(s.enabled && !s.active);
        assert!(s.accepts(ContentType::RootDir) && !s.accepts(ContentType::Template));
        let s: StorageInfo =
            serde_json::from_value(serde_json::json!({"storage": "x", "enabled": 0})).unwrap();
        assert!(!s.enabled);
    }

    #[test]
    fn volume_names() {
        let v = StorageVolume {
            volid: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst".into(),
            content: None,
            format: None,
            size: None,
            ctime: None,
            vmid: None,
        };
        assert_eq!(v.storage(), "local");
        assert_eq!(v.file_name(), "debian-12-standard_12.7-1_amd64.tar.zst");
    }
}
