//! Parameter validation with PVE's rules and message texts (pve-common JSONSchema.pm).
//!
//! Order per property: missing/optional, type, format, pattern, maxLength, minLength,
//! maximum/minimum (numbers only), enum. Unknown keys fail when additional properties are
//! not allowed. Error texts are PVE's, including the trailing newline of `invalid format - ...`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Format, ObjectSchema, PropSchema, formats, propstring};

/// A request parameter as PVE sees it after decoding the body.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// Any scalar (form values, JSON strings and numbers).
    Str(String),
    /// A JSON `true`/`false`.
    Bool(bool),
    /// A JSON array.
    Array,
    /// A JSON object.
    Object,
}

impl ParamValue {
    /// The scalar text; JSON booleans read as `1`/`0`.
    pub fn as_text(&self) -> Option<String> {
        match self {
            ParamValue::Str(s) => Some(s.clone()),
            ParamValue::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
            _ => None,
        }
    }
}

/// Parameters by name.
pub type Params = BTreeMap<String, ParamValue>;

static NUMBER_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$").expect("static regex")
});
static INTEGER_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[+-]?\d+$").expect("static regex"));

pub fn is_number(s: &str) -> bool {
    NUMBER_RE.is_match(s)
}

/// Validates `params` against an object schema; returns PVE's per-field error map.
pub fn validate(schema: &ObjectSchema, params: &Params) -> Result<(), BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    check_object("", schema, params, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn add_error(errors: &mut BTreeMap<String, String>, path: &str, msg: String) {
    let path = if path.is_empty() { "_root" } else { path };
    errors
        .entry(path.to_string())
        .and_modify(|e| {
            e.push_str("\\n");
            e.push_str(&msg);
        })
        .or_insert(msg);
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn check_object(
    path: &str,
    schema: &ObjectSchema,
    values: &Params,
    errors: &mut BTreeMap<String, String>,
) {
    for (name, prop) in &schema.props {
        match name {
            super::PropName::Plain(key) => {
                check_prop(values.get(key), prop, &join(path, key), errors)
            }
            super::PropName::Indexed { .. } => {
                for (key, value) in values.iter().filter(|(k, _)| name.matches(k)) {
                    check_prop(Some(value), prop, &join(path, key), errors);
                }
            }
        }
    }
    for key in values.keys() {
        let newpath = join(path, key);
        match schema.get(key) {
            Some(prop) => {
                if let Some(required) = &prop.requires
                    && !values.contains_key(required)
                {
                    add_error(
                        errors,
                        &join(path, required),
                        format!("missing property - '{newpath}' requires this property"),
                    );
                }
            }
            None if !schema.additional => add_error(
                errors,
                &newpath,
                "property is not defined in schema and the schema does not allow additional properties".into(),
            ),
            None => {}
        }
    }
}

fn check_prop(
    value: Option<&ParamValue>,
    schema: &PropSchema,
    path: &str,
    errors: &mut BTreeMap<String, String>,
) {
    let Some(value) = value else {
        if !schema.optional {
            add_error(
                errors,
                path,
                "property is missing and it is not optional".into(),
            );
        }
        return;
    };
    let ptype = schema.ptype.as_deref().unwrap_or("any");
    let text = match value {
        ParamValue::Str(s) => s.clone(),
        ParamValue::Bool(_) => {
            if ptype == "boolean" || ptype == "any" {
                return;
            }
            add_error(
                errors,
                path,
                format!("type check ('{ptype}') failed - got JSON::PP::Boolean"),
            );
            return;
        }
        ParamValue::Array | ParamValue::Object => {
            let kind = if matches!(value, ParamValue::Array) {
                "ARRAY"
            } else {
                "HASH"
            };
            let ok = (ptype == "array" && kind == "ARRAY")
                || (ptype == "object" && kind == "HASH")
                || ptype == "any";
            if !ok {
                add_error(
                    errors,
                    path,
                    format!("type check ('{ptype}') failed - got {kind}"),
                );
            }
            return;
        }
    };
    let type_ok = match ptype {
        "boolean" => text == "0" || text == "1",
        "integer" => INTEGER_RE.is_match(&text),
        "number" => is_number(&text),
        _ => true,
    };
    if !type_ok {
        add_error(
            errors,
            path,
            format!("type check ('{ptype}') failed - got '{text}'"),
        );
        return;
    }
    check_scalar(&text, schema, path, errors);
}

/// The checks after the type check, shared with property-string members.
pub(crate) fn check_scalar(
    text: &str,
    schema: &PropSchema,
    path: &str,
    errors: &mut BTreeMap<String, String>,
) {
    if let Some(format) = &schema.format {
        let result = match format {
            Format::Named(name) => formats::check(name, text),
            Format::Properties(inner) => propstring::check(inner, text, path),
        };
        if let Err(detail) = result {
            add_error(errors, path, format!("invalid format - {detail}"));
            return;
        }
    }
    if let Some(re) = &schema.pattern
        && !re.is_match(text)
    {
        add_error(
            errors,
            path,
            "value does not match the regex pattern".into(),
        );
        return;
    }
    let len = text.chars().count();
    if let Some(max) = schema.max_length
        && len > max
    {
        add_error(
            errors,
            path,
            format!("value may only be {max} characters long"),
        );
        return;
    }
    if let Some(min) = schema.min_length
        && len < min
    {
        add_error(
            errors,
            path,
            format!("value must be at least {min} characters long"),
        );
        return;
    }
    if is_number(text)
        && let Ok(n) = text.parse::<f64>()
    {
        if let Some(max) = schema.maximum
            && n > max
        {
            add_error(
                errors,
                path,
                format!("value must have a maximum value of {}", perl_num(max)),
            );
            return;
        }
        if let Some(min) = schema.minimum
            && n < min
        {
            add_error(
                errors,
                path,
                format!("value must have a minimum value of {}", perl_num(min)),
            );
            return;
        }
    }
    if let Some(values) = &schema.enumeration
        && !values.iter().any(|v| v == text)
    {
        add_error(
            errors,
            path,
            format!(
                "value '{text}' does not have a value in the enumeration '{}'",
                values.join(", ")
            ),
        );
    }
}

/// Prints a number the way Perl interpolates it (no trailing `.0`).
fn perl_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Checks one property-string member (type and the scalar rules); used by `propstring`.
pub(crate) fn check_member(
    value: Option<&str>,
    schema: &PropSchema,
    path: &str,
    errors: &mut BTreeMap<String, String>,
) {
    let owned = value.map(|v| ParamValue::Str(v.to_string()));
    check_prop(owned.as_ref(), schema, path, errors);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::api;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), ParamValue::Str(v.to_string())))
            .collect()
    }

    fn create_schema() -> &'static ObjectSchema {
        &api()
            .find("POST", "/nodes/pve/lxc")
            .expect("create endpoint")
            .0
            .params
    }

    #[test]
    fn missing_required_and_unknown() {
        let errs = validate(
            create_schema(),
            &params(&[("node", "pve"), ("vmid", "100"), ("bogus", "1")]),
        )
        .unwrap_err();
        assert_eq!(
            errs["ostemplate"],
            "property is missing and it is not optional"
        );
        assert_eq!(
            errs["bogus"],
            "property is not defined in schema and the schema does not allow additional properties"
        );
    }

    #[test]
    fn type_format_and_ranges() {
        let base = [("node", "pve"), ("ostemplate", "local:vztmpl/x.tar.zst")];
        let check = |extra: (&str, &str)| {
            let mut p = params(&base);
            p.insert(extra.0.into(), ParamValue::Str(extra.1.into()));
            p.entry("vmid".into())
                .or_insert(ParamValue::Str("100".into()));
            validate(create_schema(), &p)
                .err()
                .and_then(|e| e.get(extra.0).cloned())
        };
        assert_eq!(
            check(("vmid", "abc")).unwrap(),
            "type check ('integer') failed - got 'abc'"
        );
        assert_eq!(
            check(("vmid", "99")).unwrap(),
            "invalid format - value does not look like a valid VM ID\n"
        );
        assert_eq!(
            check(("start", "true")).unwrap(),
            "type check ('boolean') failed - got 'true'"
        );
        assert_eq!(
            check(("password", "abc")).unwrap(),
            "value must be at least 5 characters long"
        );
        assert_eq!(
            check(("memory", "8")).unwrap(),
            "value must have a minimum value of 16"
        );
        assert_eq!(
            check(("tty", "7")).unwrap(),
            "value must have a maximum value of 6"
        );
        assert_eq!(
            check(("cmode", "x")).unwrap(),
            "value 'x' does not have a value in the enumeration 'shell, console, tty'"
        );
        assert!(check(("net0", "name=eth0,bridge=vmbr0,ip=dhcp")).is_none());
        assert_eq!(
            check(("net0", "name=eth0,ip=10.0.0.1")).unwrap(),
            "invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n"
        );
        assert_eq!(
            check(("net0", "name=eth0,foo=1")).unwrap(),
            "invalid format - invalid key in comma-separated list property: foo\n"
        );
    }

    #[test]
    fn json_booleans_pass_boolean_type_only() {
        let schema = &api()
            .find("POST", "/nodes/pve/lxc/100/status/start")
            .expect("start")
            .0
            .params;
        let mut p = params(&[("node", "pve"), ("vmid", "100")]);
        p.insert("debug".into(), ParamValue::Bool(true));
        assert!(validate(schema, &p).is_ok());
        p.insert("vmid".into(), ParamValue::Bool(true));
        assert_eq!(
            validate(schema, &p).unwrap_err()["vmid"],
            "type check ('integer') failed - got JSON::PP::Boolean"
        );
    }
}
