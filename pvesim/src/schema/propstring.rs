//! PVE property strings (`name=eth0,bridge=vmbr0,ip=dhcp`): parsing and validation.

use std::collections::BTreeMap;

use super::validate::check_member;
use super::{ObjectSchema, PropName};

/// Splits a property string into keys and values using the member schema (for the default
/// key and boolean normalisation). Errors carry PVE's `die` text.
pub fn parse(schema: &ObjectSchema, data: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let default_key = schema.props.iter().find_map(|(name, p)| match name {
        PropName::Plain(n) if p.default_key => Some(n.clone()),
        _ => None,
    });
    let mut default_used = false;
    for part in data.split(',') {
        if part.trim().is_empty() {
            continue;
        }
        match part.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                if out.contains_key(k) {
                    return Err(format!(
                        "duplicate key in comma-separated list property: {k}\n"
                    ));
                }
                let member = schema.get(k).ok_or_else(|| {
                    format!("invalid key in comma-separated list property: {k}\n")
                })?;
                let value = if member.ptype.as_deref() == Some("boolean") {
                    parse_boolean(v).unwrap_or(v).to_string()
                } else {
                    v.to_string()
                };
                out.insert(k.to_string(), value);
            }
            Some(_) => return Err("missing key in comma-separated list property\n".into()),
            None => {
                let Some(key) = &default_key else {
                    return Err(
                        "value without key, but schema does not define a default key\n".into(),
                    );
                };
                if default_used || out.contains_key(key) {
                    return Err(format!(
                        "duplicate key in comma-separated list property: {key}\n"
                    ));
                }
                default_used = true;
                out.insert(key.clone(), part.to_string());
            }
        }
    }
    Ok(out)
}

fn parse_boolean(v: &str) -> Option<&'static str> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Some("1"),
        "0" | "off" | "no" | "false" => Some("0"),
        _ => None,
    }
}

/// Validates a property-string value; the error is the text after `invalid format - `.
pub fn check(schema: &ObjectSchema, data: &str, path: &str) -> Result<(), String> {
    let values = parse(schema, data)?;
    let mut errors = BTreeMap::new();
    for (name, member) in &schema.props {
        if let PropName::Plain(key) = name {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            check_member(
                values.get(key).map(String::as_str),
                member,
                &child,
                &mut errors,
            );
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let mut msg = String::from("format error\n");
    for (k, v) in errors {
        msg.push_str(&format!("{k}: {v}\n"));
    }
    Err(msg)
}
