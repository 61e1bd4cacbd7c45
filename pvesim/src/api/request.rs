//! Reading a request the way pve-http-server does: parameters from the query string and the
//! body (form or JSON; the query wins), and who is calling (ticket cookie + CSRF, or token).

use http::{HeaderMap, Method, header};
use serde_json::Value;

use super::error::ApiError;
use crate::auth::Identity;
use crate::schema::{ParamValue, Params, percent_decode};
use crate::sim::Sim;

/// Body and query parameters, the query overriding the body.
pub fn parameters(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<Params, ApiError> {
    let mut params = Params::new();
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json && !body.is_empty() {
        let value: Value = serde_json::from_slice(body).map_err(|e| ApiError::Status {
            status: http::StatusCode::BAD_REQUEST,
            message: format!("unable to parse JSON body - {e}"),
        })?;
        let Value::Object(map) = value else {
            return Err(ApiError::Status {
                status: http::StatusCode::BAD_REQUEST,
                message: "JSON body must be an object".into(),
            });
        };
        for (k, v) in map {
            let value = match v {
                Value::Null => continue,
                Value::Bool(b) => ParamValue::Bool(b),
                Value::Number(n) => ParamValue::Str(n.to_string()),
                Value::String(s) => ParamValue::Str(s),
                Value::Array(_) => ParamValue::Array,
                Value::Object(_) => ParamValue::Object,
            };
            params.insert(k, value);
        }
    } else {
        for (k, v) in form_urlencoded::parse(body) {
            params.insert(k.into_owned(), ParamValue::Str(v.into_owned()));
        }
    }
    if let Some(query) = query {
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), ParamValue::Str(v.into_owned()));
        }
    }
    Ok(params)
}

/// The ticket from `Cookie: PVEAuthCookie=...` or `Authorization: PVEAuthCookie=...`.
fn ticket(headers: &HeaderMap) -> Option<String> {
    let from_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|cookies| {
            cookies
                .split(';')
                .find_map(|c| c.trim().strip_prefix("PVEAuthCookie=").map(str::to_string))
        });
    let from_auth = || {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("PVEAuthCookie="))
            .map(str::to_string)
    };
    from_cookie.or_else(from_auth).map(|t| percent_decode(&t))
}

/// Authenticates a request (`None` for the calls PVE allows without auth).
pub fn authenticate(
    sim: &Sim,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<Option<Identity>, ApiError> {
    if path.trim_end_matches('/') == "/access/ticket"
        && (method == Method::GET || method == Method::POST)
    {
        return Ok(None);
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(rest) = authorization.strip_prefix("PVEAPIToken") {
        let value = rest.strip_prefix(['=', ' ']).unwrap_or_default();
        return match value.rsplit_once('=') {
            Some((tokenid, secret)) if sim.accounts.check_token(tokenid, secret) => {
                Ok(Some(Identity::Token {
                    tokenid: tokenid.to_string(),
                }))
            }
            _ => Err(ApiError::Auth {
                reason: "Authentication failed!",
            }),
        };
    }
    let ticket = ticket(headers).ok_or(ApiError::Auth {
        reason: "No ticket",
    })?;
    let now = Sim::now();
    let userid = sim
        .accounts
        .signer
        .verify_ticket(&ticket, now)
        .ok_or(ApiError::Auth {
            reason: "Authentication failed!",
        })?;
    if method != Method::GET && method != Method::HEAD {
        let csrf = headers
            .get("CSRFPreventionToken")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !sim.accounts.signer.verify_csrf(csrf, &userid, now) {
            return Err(ApiError::Auth {
                reason: "Permission denied - invalid csrf token",
            });
        }
    }
    Ok(Some(Identity::User(userid)))
}
