//! Tolerant decoding of PVE responses.
//!
//! PVE serializes Perl scalars, so the same field may arrive as `100` or `"100"`, booleans arrive
//! as `0`/`1` (sometimes `""` or `null`), and lists may be `null`. The `deserialize_with` helpers
//! here absorb those quirks once, so the typed structs stay plain. [`decode_response`] turns a
//! whole HTTP answer (status, reason phrase, body) into data or a typed [`PveError`].

use std::fmt::Display;
use std::str::FromStr;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::{ApiFailure, PveError};

/// A successful answer: the `data` member plus the optional top-level `total` (task logs).
#[derive(Debug, Clone)]
pub struct ApiResponse<T> {
    /// The decoded `data` member.
    pub data: T,
    /// The `total` member some list endpoints add.
    pub total: Option<u64>,
}

/// The raw `{"data":..,"message":..,"errors":..,"total":..}` envelope.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Value,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Option<Value>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    total: Option<u64>,
}

/// Decodes one HTTP answer from `/api2/json`.
///
/// `reason` is the status line's reason phrase as sent; old servers (before libpve-http-server
/// 5.2.0) put the error text only there and answer `{"data":null}`.
pub fn decode_response<T: DeserializeOwned>(
    status: u16,
    reason: Option<&str>,
    body: &[u8],
) -> Result<ApiResponse<T>, PveError> {
    let envelope: Option<Envelope> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice(body) {
            Ok(envelope) => Some(envelope),
            Err(err) if (200..300).contains(&status) => {
                return Err(PveError::Decode {
                    message: format!("the body is not a PVE JSON envelope: {err}"),
                });
            }
            Err(_) => None,
        }
    };

    if (200..300).contains(&status) {
        let envelope = envelope.ok_or_else(|| PveError::Decode {
            message: "the body is empty".into(),
        })?;
        let data = T::deserialize(envelope.data).map_err(|err| PveError::Decode {
            message: err.to_string(),
        })?;
        return Ok(ApiResponse {
            data,
            total: envelope.total,
        });
    }

    let (message, errors) = match envelope {
        Some(envelope) => (envelope.message, envelope.errors),
        None => (None, None),
    };
    let message = message
        .map(|m| m.trim_end().to_owned())
        .filter(|m| !m.is_empty())
        .or_else(|| {
            reason
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
        })
        .unwrap_or_default();
    let errors = errors
        .and_then(|value| match value {
            Value::Object(map) => Some(
                map.into_iter()
                    .map(|(k, v)| (k, value_text(v).trim_end().to_owned()))
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default();
    Err(PveError::from_api_failure(ApiFailure {
        status,
        message,
        errors,
    }))
}

fn value_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A number that PVE may send as a JSON number or as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrStr<T> {
    Num(T),
    Str(String),
    Float(f64),
}

fn parse_num<T, E>(raw: NumOrStr<T>) -> Result<Option<T>, E>
where
    T: FromStr,
    T::Err: Display,
    E: serde::de::Error,
{
    match raw {
        NumOrStr::Num(n) => Ok(Some(n)),
        NumOrStr::Str(s) if s.trim().is_empty() => Ok(None),
        NumOrStr::Str(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| E::custom(format!("expected a number, got {s:?}: {e}"))),
        // An integer field sent as `3.0`: accept it when it is whole.
        NumOrStr::Float(f) if f.fract() == 0.0 => format!("{f:.0}")
            .parse()
            .map(Some)
            .map_err(|e| E::custom(format!("expected an integer, got {f}: {e}"))),
        NumOrStr::Float(f) => Err(E::custom(format!("expected an integer, got {f}"))),
    }
}

/// `deserialize_with` for a required number sent as number or string (`100` or `"100"`).
pub fn number_or_string<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr + Deserialize<'de>,
    T::Err: Display,
{
    parse_num(NumOrStr::deserialize(deserializer)?)?
        .ok_or_else(|| D::Error::custom("expected a number, got an empty string"))
}

/// `deserialize_with` for an optional number sent as number, string, `""` or `null`.
/// Use with `#[serde(default)]`.
pub fn opt_number_or_string<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr + Deserialize<'de>,
    T::Err: Display,
{
    match Option::<NumOrStr<T>>::deserialize(deserializer)? {
        Some(raw) => parse_num(raw),
        None => Ok(None),
    }
}

/// `deserialize_with` for a list of numbers each sent as number or string (`loadavg`).
pub fn vec_number_or_string<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr + Deserialize<'de>,
    T::Err: Display,
{
    let raw = Option::<Vec<NumOrStr<T>>>::deserialize(deserializer)?.unwrap_or_default();
    let mut out = Vec::with_capacity(raw.len());
    for item in raw {
        if let Some(n) = parse_num(item)? {
            out.push(n);
        }
    }
    Ok(out)
}

/// `deserialize_with` for text PVE may send as a string or a number (`netmask`: `"24"` or `24`).
/// Use with `#[serde(default)]`.
pub fn opt_string_or_number<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(u8::from(b).to_string()),
        Some(other) => {
            return Err(D::Error::custom(format!(
                "expected a string or number, got {other}"
            )));
        }
    })
}

/// A PVE boolean: `1`/`0`, `"1"`/`"0"`, `true`/`false`, `""` or `null` (false).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let flag = match &value {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => match s.trim() {
                "" | "0" | "false" | "no" | "off" => false,
                "1" | "true" | "yes" | "on" => true,
                other => {
                    return Err(D::Error::custom(format!(
                        "expected a 0/1 boolean, got {other:?}"
                    )));
                }
            },
            other => {
                return Err(D::Error::custom(format!(
                    "expected a 0/1 boolean, got {other}"
                )));
            }
        };
        Ok(Flag(flag))
    }
}

/// `deserialize_with` for a boolean sent as `0`/`1` (absent means false with `#[serde(default)]`).
pub fn bool_from_int<'de, D>(deserializer: D) -> Result<bool, D::Error>
where
    D: Deserializer<'de>,
{
    Flag::deserialize(deserializer).map(|f| f.0)
}

/// `deserialize_with` for an optional `0`/`1` boolean where absent and `null` mean "not said".
/// Use with `#[serde(default)]`.
pub fn opt_bool_from_int<'de, D>(deserializer: D) -> Result<Option<bool>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(value) => Flag::deserialize(value)
            .map(|f| Some(f.0))
            .map_err(D::Error::custom),
    }
}

/// `deserialize_with` that reads `null` as the type's default (`[]` for lists).
/// Use with `#[serde(default)]` for absent keys too.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A `data` value that may be `null` where the list is empty (stopped CT interfaces).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NullableList<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NullableList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(NullableList(
            Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Sample {
        #[serde(deserialize_with = "number_or_string")]
        id: u32,
        #[serde(default, deserialize_with = "opt_number_or_string")]
        size: Option<u64>,
        #[serde(default, deserialize_with = "bool_from_int")]
        on: bool,
        #[serde(default, deserialize_with = "vec_number_or_string")]
        load: Vec<f64>,
        #[serde(default, deserialize_with = "opt_string_or_number")]
        mask: Option<String>,
    }

    #[test]
    fn numbers_arrive_as_numbers_or_strings() {
        let a: Sample = serde_json::from_value(json!({"id": 100, "size": "5", "on": 1,
            "load": ["0.10", 2], "mask": 24}))
        .unwrap();
        assert_eq!(
            (a.id, a.size, a.on, a.load, a.mask.as_deref()),
            (100, Some(5), true, vec![0.1, 2.0], Some("24"))
        );
        let b: Sample =
            serde_json::from_value(json!({"id": "101", "size": "", "on": "", "mask": "24"}))
                .unwrap();
        assert_eq!((b.id, b.size, b.on, b.load.len()), (101, None, false, 0));
        let c: Sample =
            serde_json::from_value(json!({"id": 102, "size": null, "on": null})).unwrap();
        assert_eq!((c.size, c.on), (None, false));
    }

    #[test]
    fn garbage_numbers_are_rejected() {
        assert!(serde_json::from_value::<Sample>(json!({"id": "abc"})).is_err());
        assert!(serde_json::from_value::<Sample>(json!({"id": 1.5})).is_err());
        assert!(serde_json::from_value::<Sample>(json!({"id": 1, "on": "maybe"})).is_err());
    }

    #[test]
    fn flag_accepts_pve_booleans() {
        for (v, want) in [
            (json!(1), true),
            (json!(0), false),
            (json!("1"), true),
            (json!(""), false),
            (json!(true), true),
            (json!(null), false),
        ] {
            assert_eq!(
                serde_json::from_value::<Flag>(v.clone()).unwrap().0,
                want,
                "{v}"
            );
        }
    }

    #[test]
    fn nullable_list_reads_null_as_empty() {
        let l: NullableList<u8> = serde_json::from_value(json!(null)).unwrap();
        assert!(l.0.is_empty());
        let l: NullableList<u8> = serde_json::from_value(json!([1, 2])).unwrap();
        assert_eq!(l.0, vec![1, 2]);
    }

    #[test]
    fn envelope_message_falls_back_to_reason_phrase() {
        let err = decode_response::<Value>(401, Some("authentication failure"), b"{\"data\":null}")
            .unwrap_err();
        assert!(
            matches!(err, PveError::AuthFailed { ref message } if message == "authentication failure")
        );
    }

    #[test]
    fn success_needs_a_json_body() {
        let err = decode_response::<Value>(200, None, b"<html>").unwrap_err();
        assert!(matches!(err, PveError::Decode { .. }));
        let ok = decode_response::<Value>(200, None, b"{\"data\":[1],\"total\":\"3\"}").unwrap();
        assert_eq!(ok.total, Some(3));
    }
}
