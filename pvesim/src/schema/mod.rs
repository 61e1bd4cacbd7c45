//! The official PVE 9.1 API schema (embedded) for the endpoints the simulator serves.
//!
//! Endpoints, their parameters, `allowtoken`, `proxyto` and permission checks all come from the
//! schema file; [`validate`] checks request parameters the way PVE's JSONSchema.pm does.

mod formats;
pub mod propstring;
mod validate;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

pub use validate::{ParamValue, Params, is_number, validate};

/// The official PVE 9.1 schema for the endpoints simulated, embedded at build time: a copy of
/// `shared/pve/schema-subset.json` (kept in the crate so the simulator builds from a plain clone)
/// plus `POST /nodes/{node}/lxc/{vmid}/status/reboot`, taken unchanged from
/// `shared/pve/api-schema-full-9.1.json` into the subset's flat shape.
const SCHEMA_JSON: &str = include_str!("../../data/pve-api-schema-subset.json");

/// Upper bounds of PVE's indexed properties (`net[n]` is `net0`..`net31`, ...).
const INDEXED_MAX: &[(&str, u32)] = &[("net", 32), ("mp", 256), ("unused", 256), ("dev", 256)];

static SCHEMA: LazyLock<ApiSchema> = LazyLock::new(|| ApiSchema::parse(SCHEMA_JSON));

/// The parsed schema.
pub fn api() -> &'static ApiSchema {
    &SCHEMA
}

pub struct ApiSchema {
    pub endpoints: Vec<Endpoint>,
}

/// One method on one path.
pub struct Endpoint {
    pub method: String,
    /// The path template, e.g. `/nodes/{node}/lxc/{vmid}/status/current`.
    pub path: String,
    segments: Vec<Segment>,
    pub allowtoken: bool,
    pub params: ObjectSchema,
    pub permission: Option<PermCheck>,
    pub proxyto: Option<String>,
    pub returns: Value,
}

enum Segment {
    Literal(String),
    Param(String),
}

/// A `["perm", path, [privs], "any", 1]` check from the schema.
pub struct PermCheck {
    pub path: String,
    pub privileges: Vec<String>,
    pub any: bool,
}

/// The properties of an object (parameters, or the keys of a property string).
#[derive(Default)]
pub struct ObjectSchema {
    pub props: Vec<(PropName, PropSchema)>,
    pub additional: bool,
}

pub enum PropName {
    Plain(String),
    /// `net[n]`: `net0` .. `net{max-1}`.
    Indexed {
        prefix: String,
        max: u32,
    },
}

impl PropName {
    fn matches(&self, key: &str) -> bool {
        match self {
            PropName::Plain(name) => name == key,
            PropName::Indexed { prefix, max } => key
                .strip_prefix(prefix.as_str())
                .filter(|n| {
                    !n.is_empty()
                        && n.chars().all(|c| c.is_ascii_digit())
                        && (n.len() == 1 || !n.starts_with('0'))
                })
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n < *max),
        }
    }
}

/// One property's constraints.
#[derive(Default)]
pub struct PropSchema {
    pub ptype: Option<String>,
    pub optional: bool,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<Regex>,
    pub enumeration: Option<Vec<String>>,
    pub format: Option<Format>,
    pub requires: Option<String>,
    pub default_key: bool,
}

pub enum Format {
    Named(String),
    Properties(ObjectSchema),
}

impl ObjectSchema {
    /// The schema of parameter `key`, resolving indexed names.
    pub fn get(&self, key: &str) -> Option<&PropSchema> {
        self.props
            .iter()
            .find(|(n, _)| n.matches(key))
            .map(|(_, s)| s)
    }

    fn parse(value: &Value) -> Self {
        let props = value
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .map(|(k, v)| (parse_name(k), PropSchema::parse(v)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            props,
            additional: truthy(value.get("additionalProperties")),
        }
    }

    fn parse_format(value: &serde_json::Map<String, Value>) -> Self {
        Self {
            props: value
                .iter()
                .map(|(k, v)| (PropName::Plain(k.clone()), PropSchema::parse(v)))
                .collect(),
            additional: false,
        }
    }
}

fn parse_name(key: &str) -> PropName {
    if let Some(prefix) = key.strip_suffix("[n]") {
        let max = INDEXED_MAX
            .iter()
            .find(|(p, _)| *p == prefix)
            .map_or(32, |(_, m)| *m);
        PropName::Indexed {
            prefix: prefix.to_string(),
            max,
        }
    } else {
        PropName::Plain(key.to_string())
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Number(n)) => n.as_i64() != Some(0),
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s != "0" && !s.is_empty(),
        _ => false,
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl PropSchema {
    fn parse(v: &Value) -> Self {
        let format = match v.get("format") {
            Some(Value::String(name)) => Some(Format::Named(name.clone())),
            Some(Value::Object(map)) => Some(Format::Properties(ObjectSchema::parse_format(map))),
            _ => None,
        };
        Self {
            ptype: v.get("type").and_then(Value::as_str).map(String::from),
            optional: truthy(v.get("optional")),
            minimum: number(v.get("minimum")),
            maximum: number(v.get("maximum")),
            min_length: number(v.get("minLength")).map(|n| n as usize),
            max_length: number(v.get("maxLength")).map(|n| n as usize),
            pattern: v
                .get("pattern")
                .and_then(Value::as_str)
                .and_then(perl_pattern),
            enumeration: v.get("enum").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            }),
            format,
            requires: v.get("requires").and_then(Value::as_str).map(String::from),
            default_key: truthy(v.get("default_key")),
        }
    }
}

/// Turns a Perl pattern from the schema into an anchored Rust regex (PVE matches `^pat$`).
fn perl_pattern(pattern: &str) -> Option<Regex> {
    let converted = pattern
        .replace("(?^:", "(?:")
        .replace("(?^i:", "(?i:")
        .replace(r"\0", r"\x00");
    match Regex::new(&format!("^(?:{converted})$")) {
        Ok(re) => Some(re),
        Err(e) => {
            tracing::warn!(%pattern, error = %e, "schema pattern not usable, not enforced");
            None
        }
    }
}

impl ApiSchema {
    fn parse(text: &str) -> Self {
        let doc: Value = serde_json::from_str(text).expect("embedded schema is valid JSON");
        let endpoints = doc["endpoints"]
            .as_array()
            .expect("schema has endpoints")
            .iter()
            .map(Endpoint::parse)
            .collect();
        Self { endpoints }
    }

    /// The endpoint for `method` on `path` (relative to /api2/json) and its path parameters.
    pub fn find(&self, method: &str, path: &str) -> Option<(&Endpoint, BTreeMap<String, String>)> {
        let parts: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        self.endpoints
            .iter()
            .filter(|e| e.method == method)
            .find_map(|e| e.match_path(&parts).map(|params| (e, params)))
    }
}

impl Endpoint {
    fn parse(v: &Value) -> Self {
        let path = v["path"].as_str().expect("endpoint path").to_string();
        let segments = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => Segment::Param(name.to_string()),
                    None => Segment::Literal(s.to_string()),
                },
            )
            .collect();
        let permission = v
            .get("permissions")
            .and_then(|p| p.get("check"))
            .and_then(|check| {
                let check = check.as_array()?;
                if check.first()?.as_str()? != "perm" {
                    return None;
                }
                Some(PermCheck {
                    path: check.get(1)?.as_str()?.to_string(),
                    privileges: check
                        .get(2)?
                        .as_array()?
                        .iter()
                        .filter_map(|p| p.as_str().map(String::from))
                        .collect(),
                    any: check.get(3).and_then(Value::as_str) == Some("any"),
                })
            });
        Self {
            method: v["method"].as_str().expect("endpoint method").to_string(),
            segments,
            allowtoken: v.get("allowtoken").is_none_or(|a| truthy(Some(a))),
            params: v
                .get("parameters")
                .map(ObjectSchema::parse)
                .unwrap_or_default(),
            permission,
            proxyto: v.get("proxyto").and_then(Value::as_str).map(String::from),
            returns: v.get("returns").cloned().unwrap_or(Value::Null),
            path,
        }
    }

    fn match_path(&self, parts: &[&str]) -> Option<BTreeMap<String, String>> {
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = BTreeMap::new();
        for (seg, part) in self.segments.iter().zip(parts) {
            let decoded = percent_decode(part);
            match seg {
                Segment::Literal(lit) if *lit == decoded => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    params.insert(name.clone(), decoded);
                }
            }
        }
        Some(params)
    }

    /// The declared type of a returned object's property (`type` of `returns.properties.KEY`
    /// or of `returns.items.properties.KEY`), resolving indexed names.
    pub fn return_type(&self, key: &str) -> Option<&str> {
        let props = self
            .returns
            .get("properties")
            .or_else(|| self.returns.get("items").and_then(|i| i.get("properties")))?
            .as_object()?;
        props
            .iter()
            .find(|(name, _)| parse_name(name).matches(key))
            .and_then(|(_, schema)| schema.get("type"))
            .and_then(Value::as_str)
    }
}

/// Decodes `%XX` escapes in a URL path segment.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |b: u8| (b as char).to_digit(16);
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_loads_all_endpoints() {
        let api = api();
        assert!(api.endpoints.len() >= 20);
        let (ep, params) = api
            .find("GET", "/nodes/pve/lxc/100/status/current")
            .expect("endpoint");
        assert_eq!(ep.path, "/nodes/{node}/lxc/{vmid}/status/current");
        assert_eq!(params["vmid"], "100");
        assert!(api.find("GET", "/nodes/pve/foo").is_none());
        let reboot = api
            .find("POST", "/nodes/pve/lxc/100/status/reboot")
            .expect("reboot, added from the full schema")
            .0;
        assert!(reboot.params.get("timeout").is_some());
        assert!(reboot.allowtoken);
        let create = api.find("POST", "/nodes/pve/lxc").expect("create").0;
        assert!(create.params.get("net0").is_some());
        assert!(create.params.get("net31").is_some());
        assert!(create.params.get("net32").is_none());
        assert!(create.params.get("net01").is_none());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("UPID%3Apve%3A"), "UPID:pve:");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
