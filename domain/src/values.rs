//! Values with rules: a [`Vmid`], a [`Hostname`] and an [`Ipv4Cidr`] can only be made by
//! checking them, so whoever holds one (the worker, the database layer, the detail page) never
//! checks or converts again. Each reads and writes as the plain number or string it stands for,
//! and reading checks it the same way.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// PVE's VMID bounds (`pve-vmid`).
pub const VMID_RANGE: (u32, u32) = (100, 999_999_999);

/// A Proxmox guest id, 100–999,999,999 (fits PostgreSQL's `integer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)
)]
#[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Integer))]
#[serde(try_from = "u32", into = "u32")]
pub struct Vmid(u32);

impl Vmid {
    /// `value` when it is within PVE's bounds; otherwise the message for the field.
    pub fn new(value: u32) -> Result<Vmid, String> {
        let (min, max) = VMID_RANGE;
        if (min..=max).contains(&value) {
            Ok(Vmid(value))
        } else {
            Err(format!("Enter {min} to {max}."))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Vmid {
    type Error = String;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Vmid::new(value)
    }
}

impl From<Vmid> for u32 {
    fn from(value: Vmid) -> u32 {
        value.0
    }
}

impl fmt::Display for Vmid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Vmid {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let value = s
            .trim()
            .parse::<u32>()
            .map_err(|_| "Enter a whole number.".to_owned())?;
        Vmid::new(value)
    }
}

#[cfg(feature = "diesel")]
impl diesel::serialize::ToSql<diesel::sql_types::Integer, diesel::pg::Pg> for Vmid {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        use std::io::Write;
        // Within VMID_RANGE, so always below i32::MAX.
        let value = i32::try_from(self.0)?;
        out.write_all(&value.to_be_bytes())?;
        Ok(diesel::serialize::IsNull::No)
    }
}

#[cfg(feature = "diesel")]
impl diesel::deserialize::FromSql<diesel::sql_types::Integer, diesel::pg::Pg> for Vmid {
    fn from_sql(
        bytes: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> diesel::deserialize::Result<Self> {
        let value = <i32 as diesel::deserialize::FromSql<
            diesel::sql_types::Integer,
            diesel::pg::Pg,
        >>::from_sql(bytes)?;
        let value = u32::try_from(value).map_err(|_| format!("VMID {value} is negative"))?;
        Ok(Vmid::new(value)?)
    }
}

/// A DNS host name (RFC 1123 labels), stored lower-case without a trailing dot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)
)]
#[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
#[serde(try_from = "String", into = "String")]
pub struct Hostname(String);

impl Hostname {
    /// `value` normalised (trimmed, lower-case, no trailing dot) when it is a valid host name;
    /// otherwise the message for the field.
    pub fn parse(value: &str) -> Result<Hostname, String> {
        let value = value.trim().trim_end_matches('.').to_ascii_lowercase();
        if value.is_empty() {
            return Err("Required.".into());
        }
        if value.len() > 253 {
            return Err("At most 253 characters.".into());
        }
        for label in value.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err("Each dot-separated part must have 1 to 63 characters.".into());
            }
            if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err("Use only letters, digits, hyphens and dots.".into());
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err("A part may not start or end with a hyphen.".into());
            }
        }
        Ok(Hostname(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Hostname {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Hostname::parse(&value)
    }
}

impl From<Hostname> for String {
    fn from(value: Hostname) -> String {
        value.0
    }
}

impl AsRef<str> for Hostname {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Hostname {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Hostname {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Hostname {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hostname::parse(s)
    }
}

#[cfg(feature = "diesel")]
impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for Hostname {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
            &self.0, out,
        )
    }
}

#[cfg(feature = "diesel")]
impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for Hostname {
    fn from_sql(
        bytes: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> diesel::deserialize::Result<Self> {
        let value = <String as diesel::deserialize::FromSql<
            diesel::sql_types::Text,
            diesel::pg::Pg,
        >>::from_sql(bytes)?;
        Ok(Hostname::parse(&value)?)
    }
}

/// A host address with its prefix, e.g. `192.168.1.50/24`: prefix 8–32, and not the network's
/// own or broadcast address, nor unspecified, multicast or broadcast. Loopback is allowed:
/// Proxmox accepts it, and the demo's simulated containers live there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ipv4Cidr {
    address: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Cidr {
    /// `value` when it is a host address with a prefix; otherwise the message for the field.
    pub fn parse(value: &str) -> Result<Ipv4Cidr, String> {
        let v = value.trim();
        let Some((address, prefix)) = v.split_once('/') else {
            return Err("Enter an address with its prefix, like 192.168.1.50/24.".into());
        };
        let address = ipv4_address(address)?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| (8..=32).contains(p))
            .ok_or("The prefix must be a number from 8 to 32.")?;
        if address.is_unspecified() || address.is_multicast() || address.is_broadcast() {
            return Err("This address cannot be given to a container.".into());
        }
        let cidr = Ipv4Cidr { address, prefix };
        if prefix <= 30 {
            let host = u32::from(address) & !cidr.mask();
            if host == 0 {
                return Err("This is the network's own address; choose a host address.".into());
            }
            if host == !cidr.mask() {
                return Err(
                    "This is the network's broadcast address; choose a host address.".into(),
                );
            }
        }
        Ok(cidr)
    }

    /// The container's own address.
    pub fn address(self) -> Ipv4Addr {
        self.address
    }

    pub fn prefix(self) -> u8 {
        self.prefix
    }

    fn mask(self) -> u32 {
        u32::MAX << (32 - u32::from(self.prefix))
    }

    /// `gateway` when it lies in this network and is not the address itself.
    pub fn check_gateway(self, gateway: Ipv4Addr) -> Result<Ipv4Addr, String> {
        let mask = self.mask();
        if u32::from(self.address) & mask != u32::from(gateway) & mask {
            return Err(format!(
                "The gateway must be in the container's network ({}/{}).",
                Ipv4Addr::from(u32::from(self.address) & mask),
                self.prefix
            ));
        }
        if gateway == self.address {
            return Err("The gateway cannot be the container's own address.".into());
        }
        Ok(gateway)
    }
}

impl TryFrom<String> for Ipv4Cidr {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Ipv4Cidr::parse(&value)
    }
}

impl From<Ipv4Cidr> for String {
    fn from(value: Ipv4Cidr) -> String {
        value.to_string()
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ipv4Cidr::parse(s)
    }
}

/// A dotted-quad IPv4 address.
pub fn ipv4_address(value: &str) -> Result<Ipv4Addr, String> {
    value
        .trim()
        .parse::<Ipv4Addr>()
        .map_err(|_| "Enter an IPv4 address like 192.168.1.1.".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmid_bounds_and_wire_form() {
        assert!(Vmid::new(99).is_err());
        assert_eq!(Vmid::new(100).unwrap().get(), 100);
        assert!(Vmid::new(999_999_999).is_ok());
        assert!(Vmid::new(1_000_000_000).is_err());
        assert_eq!(
            "100abc".parse::<Vmid>(),
            Err("Enter a whole number.".into())
        );
        assert_eq!(
            serde_json::to_string(&Vmid::new(123).unwrap()).unwrap(),
            "123"
        );
        assert!(serde_json::from_str::<Vmid>("42").is_err());
        assert_eq!(
            serde_json::from_str::<Vmid>("4242").unwrap(),
            Vmid::new(4242).unwrap()
        );
    }

    #[test]
    fn hostname_is_normalised_and_checked_when_read() {
        let h = Hostname::parse(" Web-1.Lan. ").unwrap();
        assert_eq!(h.as_str(), "web-1.lan");
        assert_eq!(serde_json::to_string(&h).unwrap(), "\"web-1.lan\"");
        for bad in ["", "-a", "a-", "a..b", "a_b", "a b", &"x".repeat(64)] {
            assert!(Hostname::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Hostname>("\"bad name\"").is_err());
    }

    #[test]
    fn cidr_rules_and_gateway() {
        let c = Ipv4Cidr::parse("192.168.1.50/24").unwrap();
        assert_eq!(
            (c.address(), c.prefix()),
            (Ipv4Addr::new(192, 168, 1, 50), 24)
        );
        assert_eq!(c.to_string(), "192.168.1.50/24");
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"192.168.1.50/24\"");
        for bad in [
            "192.168.1.50",
            "192.168.1.0/24",
            "192.168.1.255/24",
            "0.0.0.0/8",
            "224.0.0.1/8",
            "10.0.0.1/7",
            "10.0.0.1/33",
            "10.0.0.300/8",
        ] {
            assert!(Ipv4Cidr::parse(bad).is_err(), "{bad}");
        }
        assert!(Ipv4Cidr::parse("10.0.0.7/32").is_ok());
        assert!(Ipv4Cidr::parse("10.0.0.6/31").is_ok());
        assert!(c.check_gateway(Ipv4Addr::new(192, 168, 1, 1)).is_ok());
        assert!(c.check_gateway(Ipv4Addr::new(192, 168, 2, 1)).is_err());
        assert!(c.check_gateway(c.address()).is_err());
        assert!(serde_json::from_str::<Ipv4Cidr>("\"192.168.1.0/24\"").is_err());
    }
}
