//! PVE's response envelopes: `{"data": ...}` on success, and the error shapes with the HTTP
//! reason phrase set to the first line of the message.

use std::collections::BTreeMap;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// A failed API call.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 400 `Parameter verification failed.` with the per-parameter `errors` map.
    Params(BTreeMap<String, String>),
    /// A handler error with its status (`die` = 500, permission = 403, ...).
    Status { status: StatusCode, message: String },
    /// An auth-layer failure: empty body, the text only in the reason phrase.
    Auth { reason: &'static str },
    /// 501 for an unknown method or path.
    NotImplemented { method: String, path: String },
}

impl ApiError {
    /// PVE's plain `die`: HTTP 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Status {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }

    /// `raise_param_exc` for one parameter.
    pub fn param(key: &str, message: impl Into<String>) -> Self {
        Self::Params(BTreeMap::from([(key.to_string(), message.into())]))
    }

    /// `raise_perm_exc`: 403 `Permission check failed (WHAT)` or without details.
    pub fn forbidden(what: Option<String>) -> Self {
        let message = match what {
            Some(w) => format!("Permission check failed ({w})"),
            None => "Permission check failed".to_string(),
        };
        Self::Status {
            status: StatusCode::FORBIDDEN,
            message,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Params(_) => StatusCode::BAD_REQUEST,
            ApiError::Status { status, .. } => *status,
            ApiError::Auth { .. } => StatusCode::UNAUTHORIZED,
            ApiError::NotImplemented { .. } => StatusCode::NOT_IMPLEMENTED,
        }
    }

    /// The message as PVE puts it into the body (with its trailing newline).
    fn message(&self) -> String {
        match self {
            ApiError::Params(_) => "Parameter verification failed.\n".into(),
            ApiError::Status { message, .. } if message.ends_with('\n') => message.clone(),
            ApiError::Status { message, .. } => format!("{message}\n"),
            ApiError::Auth { reason } => (*reason).to_string(),
            ApiError::NotImplemented { method, path } => {
                format!("Method '{method} {path}' not implemented")
            }
        }
    }
}

fn with_reason(mut response: Response, message: &str) -> Response {
    let first = message.lines().next().unwrap_or_default();
    if let Ok(reason) = hyper::ext::ReasonPhrase::try_from(first.to_string()) {
        response.extensions_mut().insert(reason);
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.message();
        let response = match &self {
            ApiError::Auth { .. } => (status, "").into_response(),
            _ => {
                let mut body = json!({ "data": null, "message": message });
                if let ApiError::Params(errors) = &self {
                    body["errors"] = json!(errors);
                }
                json_response(status, &body)
            }
        };
        with_reason(response, &message)
    }
}

/// A JSON body with PVE's content type.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    response
}

/// A successful call's result: `data` plus extra top-level keys (e.g. `total`).
pub struct ApiData {
    pub data: Value,
    pub total: Option<usize>,
}

impl ApiData {
    pub fn new(data: Value) -> Self {
        Self { data, total: None }
    }
}

impl IntoResponse for ApiData {
    fn into_response(self) -> Response {
        let mut body = json!({ "data": self.data });
        if let Some(total) = self.total {
            body["total"] = json!(total);
        }
        json_response(StatusCode::OK, &body)
    }
}

pub type ApiResult = Result<ApiData, ApiError>;
