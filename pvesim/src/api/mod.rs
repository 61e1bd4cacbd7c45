//! `/api2/json`: one dispatcher driven by the schema, as pve-http-server and PVE's REST
//! handler work: authenticate (401), find the method (501), token restrictions and the
//! schema's permission check (403), proxy to the node (500 for unknown nodes), validate the
//! parameters (400), then run the handler.

mod access;
mod cluster;
pub mod error;
mod lxc;
mod nodes;
mod request;
mod storage;
mod tasks;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{HeaderMap, Method, Uri};

use crate::auth::Identity;
use crate::auth::privs::PrivSet;
use crate::schema::{self, Endpoint, ParamValue, Params};
use crate::sim::Sim;
use error::{ApiError, ApiResult};

/// What a handler gets.
pub struct Ctx<'a> {
    pub sim: &'a Arc<Sim>,
    pub identity: Option<&'a Identity>,
    pub params: &'a Params,
    pub endpoint: &'a Endpoint,
}

impl Ctx<'_> {
    pub fn text(&self, key: &str) -> Option<String> {
        self.params.get(key).and_then(ParamValue::as_text)
    }

    /// The validated `node` path parameter.
    pub fn node(&self) -> String {
        self.text("node").unwrap_or_default()
    }

    /// The validated `vmid` parameter.
    pub fn vmid(&self) -> u32 {
        self.text("vmid")
            .and_then(|v| v.trim_start_matches('+').parse().ok())
            .unwrap_or_default()
    }

    pub fn flag(&self, key: &str) -> bool {
        self.text(key).is_some_and(|v| v == "1")
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.text(key)
            .and_then(|v| v.trim_start_matches('+').parse().ok())
    }

    /// `user@realm` or `user@realm!token` of the caller.
    pub fn authid(&self) -> String {
        self.identity
            .map(|i| i.authid().to_string())
            .unwrap_or_default()
    }

    pub fn privs(&self) -> PrivSet {
        self.identity
            .map(|i| self.sim.accounts.privileges_of(i.authid()))
            .unwrap_or_default()
    }

    /// A 403 unless the caller holds `privilege` (on `path`, named in the message).
    pub fn require(&self, path: &str, privilege: &str) -> Result<(), ApiError> {
        if self.privs().has(privilege) {
            Ok(())
        } else {
            Err(ApiError::forbidden(Some(format!("{path}, {privilege}"))))
        }
    }
}

/// The API routes (the admin routes are merged in by the simulator).
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/api2/json", any(dispatch))
        .route("/api2/json/", any(dispatch))
        .route("/api2/json/{*rest}", any(dispatch))
        .with_state(sim)
}

async fn dispatch(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().strip_prefix("/api2/json").unwrap_or_default();
    let path = if path.is_empty() { "/" } else { path };
    sim.count_request(method.as_str(), path);
    let result = handle(&sim, &method, path, uri.query(), &headers, &body).await;
    tracing::debug!(%method, %path, ok = result.is_ok(), "api call");
    match result {
        Ok(data) => data.into_response(),
        Err(err) => {
            if err.status() == http::StatusCode::UNAUTHORIZED && !sim.auth_failure_delay.is_zero() {
                tokio::time::sleep(sim.auth_failure_delay).await;
            }
            err.into_response()
        }
    }
}

async fn handle(
    sim: &Arc<Sim>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult {
    let identity = request::authenticate(sim, method, path, headers)?;
    let not_implemented = || ApiError::NotImplemented {
        method: method.to_string(),
        path: path.to_string(),
    };
    let (endpoint, path_params) = schema::api()
        .find(method.as_str(), path)
        .ok_or_else(not_implemented)?;
    if identity.as_ref().is_some_and(Identity::is_token) && !endpoint.allowtoken {
        return Err(ApiError::forbidden(Some(format!(
            "URI '{path}' not available with API token, need proper ticket."
        ))));
    }
    let mut params = request::parameters(headers, query, body)?;
    for (key, value) in path_params {
        if params.contains_key(&key) {
            return Err(ApiError::param(
                &key,
                "duplicate parameter (already defined in URI)",
            ));
        }
        params.insert(key, ParamValue::Str(value));
    }
    let ctx = Ctx {
        sim,
        identity: identity.as_ref(),
        params: &params,
        endpoint,
    };
    if let Some(check) = &endpoint.permission {
        let target = params.iter().fold(check.path.clone(), |p, (k, v)| {
            p.replace(&format!("{{{k}}}"), &v.as_text().unwrap_or_default())
        });
        let privs = ctx.privs();
        if check.any {
            if !check.privileges.iter().any(|p| privs.has(p)) {
                return Err(ApiError::forbidden(Some(format!(
                    "{target}, {}",
                    check.privileges.join("|")
                ))));
            }
        } else if let Some(missing) = check.privileges.iter().find(|p| !privs.has(p)) {
            return Err(ApiError::forbidden(Some(format!("{target}, {missing}"))));
        }
    }
    if endpoint.proxyto.as_deref() == Some("node") {
        let node = ctx.node();
        if !sim.is_node(&node) {
            return Err(ApiError::internal(format!(
                "hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known"
            )));
        }
    }
    schema::validate(&endpoint.params, &params).map_err(ApiError::Params)?;
    route(&ctx, method, &endpoint.path)
        .await
        .unwrap_or_else(|| Err(not_implemented()))
}

async fn route(ctx: &Ctx<'_>, method: &Method, template: &str) -> Option<ApiResult> {
    Some(match (method.as_str(), template) {
        ("POST", "/access/ticket") => access::ticket(ctx).await,
        ("GET", "/access/permissions") => access::permissions(ctx),
        ("GET", "/version") => nodes::version(),
        ("GET", "/nodes") => nodes::list(ctx),
        ("GET", "/nodes/{node}/status") => nodes::status(ctx),
        ("GET", "/nodes/{node}/network") => nodes::network(ctx),
        ("GET", "/nodes/{node}/aplinfo") => nodes::aplinfo(),
        ("GET", "/nodes/{node}/storage") => storage::list(ctx),
        ("GET", "/nodes/{node}/storage/{storage}/content") => storage::content(ctx),
        ("GET", "/cluster/nextid") => cluster::nextid(ctx),
        ("GET", "/cluster/resources") => cluster::resources(ctx),
        ("GET", "/nodes/{node}/tasks") => tasks::list(ctx),
        ("GET", "/nodes/{node}/tasks/{upid}/status") => tasks::status(ctx),
        ("GET", "/nodes/{node}/tasks/{upid}/log") => tasks::log(ctx),
        ("GET", "/nodes/{node}/lxc") => lxc::list(ctx),
        ("POST", "/nodes/{node}/lxc") => lxc::create(ctx),
        ("GET", "/nodes/{node}/lxc/{vmid}/status/current") => lxc::current(ctx),
        ("GET", "/nodes/{node}/lxc/{vmid}/config") => lxc::config(ctx),
        ("GET", "/nodes/{node}/lxc/{vmid}/interfaces") => lxc::interfaces(ctx),
        ("POST", "/nodes/{node}/lxc/{vmid}/status/start") => lxc::start(ctx),
        ("POST", "/nodes/{node}/lxc/{vmid}/status/stop") => lxc::stop(ctx),
        ("POST", "/nodes/{node}/lxc/{vmid}/status/shutdown") => lxc::shutdown(ctx),
        ("POST", "/nodes/{node}/lxc/{vmid}/status/reboot") => lxc::reboot(ctx),
        ("DELETE", "/nodes/{node}/lxc/{vmid}") => lxc::destroy(ctx),
        _ => return None,
    })
}
