//! UPIDs, the IDs of PVE worker tasks:
//! `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:` with hex numbers.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::PveError;

static UPID_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$",
    )
    .expect("valid regex")
});

/// A parsed task ID. Displays (and serializes) as the original text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Upid {
    /// The node running the task; status and log calls must go there.
    pub node: String,
    pub pid: u32,
    pub pstart: u64,
    /// Unix time the task started.
    pub starttime: i64,
    /// `vzcreate`, `vzstart`, `vzstop`, `vzshutdown`, `vzdestroy`, ...
    pub task_type: String,
    /// Usually the VMID; may be empty.
    pub id: String,
    /// `user@realm` or `user@realm!token`.
    pub user: String,
    raw: String,
}

impl Upid {
    /// The UPID text as PVE sent it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl FromStr for Upid {
    type Err = PveError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let caps = UPID_RE.captures(text).ok_or_else(|| PveError::Decode {
            message: format!("'{text}' is not a task ID (UPID)"),
        })?;
        let hex = |i: usize| u64::from_str_radix(&caps[i], 16).expect("regex checked hex");
        Ok(Upid {
            node: caps[1].to_owned(),
            pid: u32::try_from(hex(3)).expect("8 hex digits fit in u32"),
            pstart: hex(4),
            starttime: i64::try_from(hex(5)).expect("8 hex digits fit in i64"),
            task_type: caps[6].to_owned(),
            id: caps[7].to_owned(),
            user: caps[8].to_owned(),
            raw: text.to_owned(),
        })
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for Upid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Upid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields() {
        let upid: Upid = "UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:"
            .parse()
            .unwrap();
        assert_eq!(upid.node, "node1");
        assert_eq!(upid.pid, 1_044_989);
        assert_eq!(upid.pstart, 284_768_076);
        assert_eq!(upid.starttime, 1_661_825_068);
        assert_eq!(upid.task_type, "vzdump");
        assert_eq!(upid.id, "110");
        assert_eq!(upid.user, "root@pam");
        assert_eq!(
            upid.to_string(),
            "UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:"
        );
    }

    #[test]
    fn token_user_nine_digit_pstart_and_empty_id() {
        let upid: Upid = "UPID:pve-2:0002a1b3:1159C2D1F:67A3F0C2:srvreload::ci@pve!tok:"
            .parse()
            .unwrap();
        assert_eq!(upid.node, "pve-2");
        assert_eq!(upid.pstart, 0x1159C2D1F);
        assert_eq!(upid.id, "");
        assert_eq!(upid.user, "ci@pve!tok");
    }

    #[test]
    fn rejects_non_upids() {
        for bad in [
            "",
            "UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam",
            "UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:keep-running",
            "UPID:-bad:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:",
            "UPID:n:0FF1FD:10F9374C:630D702C:vzdump:110:root@pam:",
        ] {
            assert!(bad.parse::<Upid>().is_err(), "{bad}");
        }
    }
}
