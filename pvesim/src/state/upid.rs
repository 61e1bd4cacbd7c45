//! Unique process ids of tasks: `UPID:node:PID:PSTART:STARTTIME:type:id:user:`.

use std::sync::LazyLock;

use regex::Regex;

static UPID_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):",
        r"([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$"
    ))
    .expect("static regex")
});

/// The decoded fields of a UPID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upid {
    pub node: String,
    pub pid: u32,
    pub pstart: u64,
    pub starttime: i64,
    pub task_type: String,
    pub id: String,
    pub user: String,
}

impl Upid {
    /// PVE's encoding: uppercase hex, trailing colon.
    pub fn encode(&self) -> String {
        format!(
            "UPID:{}:{:08X}:{:08X}:{:08X}:{}:{}:{}:",
            self.node, self.pid, self.pstart, self.starttime, self.task_type, self.id, self.user
        )
    }

    pub fn parse(s: &str) -> Option<Self> {
        let c = UPID_RE.captures(s)?;
        Some(Self {
            node: c[1].to_string(),
            pid: u32::from_str_radix(&c[3], 16).ok()?,
            pstart: u64::from_str_radix(&c[4], 16).ok()?,
            starttime: i64::from_str_radix(&c[5], 16).ok()?,
            task_type: c[6].to_string(),
            id: c[7].to_string(),
            user: c[8].to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_matches_fixture() {
        let s = "UPID:pve:0002A1B3:0159C2D1:67A3F0C2:vzcreate:100:root@pam:";
        let upid = Upid::parse(s).expect("parses");
        assert_eq!(upid.pid, 172467);
        assert_eq!(upid.pstart, 22659793);
        assert_eq!(upid.starttime, 1738797250);
        assert_eq!(upid.encode(), s);
        assert!(Upid::parse("UPID:pve:0002A1B3:0159C2D1:67A3F0C2:vzcreate:100:root@pam").is_none());
        let token =
            Upid::parse("UPID:pve:0002A1B3:0159C2D1:67A3F0C2:vzcreate:100:automation@pve!ci:")
                .expect("token");
        assert_eq!(token.user, "automation@pve!ci");
    }
}
