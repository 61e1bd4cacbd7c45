//! Field-level validation results and the small checks several forms share.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use crate::values::Hostname;

/// Messages keyed by the form field they belong to; empty means valid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` for `field`, keeping the first message if one is already there.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// Records the error of `result`, if any, for `field` and returns the value when valid.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when no error was recorded, else the errors.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        f.write_str(&parts.join("; "))
    }
}

/// A trimmed, non-empty string of at most `max` characters.
pub fn required_text(value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("Required.".into());
    }
    if value.chars().count() > max {
        return Err(format!("At most {max} characters."));
    }
    Ok(value.to_owned())
}

/// An RFC 1123 host name (labels of letters, digits and inner hyphens, at most 253 characters),
/// normalised; the rules are [`Hostname::parse`]'s.
pub fn hostname(value: &str) -> Result<String, String> {
    Hostname::parse(value).map(String::from)
}

/// A host to connect to: an RFC 1123 name, an IPv4 address or a bracket-less IPv6 address.
pub fn network_host(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.contains("://") || trimmed.contains('/') {
        return Err("Enter only the host name or address, without https:// or a path.".into());
    }
    let unbracketed = trimmed.trim_start_matches('[').trim_end_matches(']');
    if unbracketed.parse::<std::net::IpAddr>().is_ok() {
        return Ok(unbracketed.to_owned());
    }
    hostname(trimmed)
}

/// A TCP port, 1 to 65535.
pub fn port(value: &str) -> Result<u16, String> {
    match value.trim().parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err("Enter a port from 1 to 65535.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        let cases = [
            ("web-01", Ok("web-01")),
            ("Web.Example.COM.", Ok("web.example.com")),
            ("", Err(())),
            ("-web", Err(())),
            ("web-", Err(())),
            ("we_b", Err(())),
            ("a..b", Err(())),
            ("web;rm -rf", Err(())),
        ];
        for (input, expected) in cases {
            let got = hostname(input).map_err(|_| ());
            assert_eq!(got, expected.map(str::to_owned), "input {input:?}");
        }
        assert!(hostname(&"a".repeat(64)).is_err());
    }

    #[test]
    fn hosts_and_ports() {
        assert_eq!(network_host("192.168.1.10").as_deref(), Ok("192.168.1.10"));
        assert_eq!(network_host("[fe80::1]").as_deref(), Ok("fe80::1"));
        assert!(network_host("https://pve:8006").is_err());
        assert_eq!(port("8006"), Ok(8006));
        assert!(port("0").is_err());
        assert!(port("70000").is_err());
        assert!(port("x").is_err());
    }
}
