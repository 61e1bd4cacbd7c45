//! The client handle and the one request path every typed call goes through.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::auth::{
    Auth, AuthState, DEFAULT_TICKET_RENEW_AFTER, RequestAuth, Session, TICKET_LIFETIME, TicketData,
    cookie_header, csrf_header, session_from, ticket_form,
};
use crate::decode::{ApiResponse, decode_response};
use crate::error::{PveError, Target, from_transport};
use crate::form::FormBody;
use crate::tls::{Trust, rustls_config};

/// The port pveproxy listens on.
pub const DEFAULT_PORT: u16 = 8006;

/// Default per-request timeout. Above PVE's 3 s delay for failed authentication.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Host name or IP address of any cluster node.
    pub host: String,
    /// API port, normally [`DEFAULT_PORT`].
    pub port: u16,
    /// Credentials.
    pub auth: Auth,
    /// Certificate trust mode.
    pub trust: Trust,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl ClientConfig {
    /// A config with the default timeout.
    pub fn new(host: impl Into<String>, port: u16, auth: Auth, trust: Trust) -> Self {
        ClientConfig {
            host: host.into(),
            port,
            auth,
            trust,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A Proxmox VE API client. Cheap to clone; clones share the connection pool and the ticket.
#[derive(Clone)]
pub struct PveClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    host: String,
    port: u16,
    timeout: Duration,
    auth: AuthState,
}

impl std::fmt::Debug for PveClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PveClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Builds a client from its parts; what the server and the worker call.
pub fn connect(host: &str, port: u16, auth: Auth, trust: Trust) -> Result<PveClient, PveError> {
    PveClient::new(ClientConfig::new(host, port, auth, trust))
}

/// Optional tuning beyond [`ClientConfig`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    config: ClientConfig,
    ticket_renew_after: Duration,
}

impl ClientBuilder {
    /// Renew the ticket once it is this old (default [`DEFAULT_TICKET_RENEW_AFTER`]).
    /// `Duration::ZERO` renews before every call, which tests use.
    pub fn ticket_renew_after(mut self, age: Duration) -> Self {
        self.ticket_renew_after = age;
        self
    }

    /// Builds the client. No network traffic happens here.
    pub fn build(self) -> Result<PveClient, PveError> {
        let ClientConfig {
            host,
            port,
            auth,
            trust,
            timeout,
        } = self.config;
        let host = host.trim().to_owned();
        if host.is_empty() {
            return Err(PveError::InvalidConfig("the host is empty".into()));
        }
        let url_host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let base = Url::parse(&format!("https://{url_host}:{port}/api2/json"))
            .ok()
            .filter(|u| u.path() == "/api2/json" && u.username().is_empty())
            .ok_or_else(|| {
                PveError::InvalidConfig(format!(
                    "'{host}' is not a host name or IP address (leave out https:// and the port)"
                ))
            })?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(rustls_config(&trust)?)
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("infrahaus-pve-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PveError::InvalidConfig(format!("HTTP client setup failed: {e}")))?;
        Ok(PveClient {
            inner: Arc::new(Inner {
                http,
                base,
                host,
                port,
                timeout,
                auth: AuthState::new(&auth, self.ticket_renew_after)?,
            }),
        })
    }
}

impl PveClient {
    /// Builds a client with default tuning.
    pub fn new(config: ClientConfig) -> Result<Self, PveError> {
        Self::builder(config).build()
    }

    /// Starts a builder for tuning (ticket renewal age).
    pub fn builder(config: ClientConfig) -> ClientBuilder {
        ClientBuilder {
            config,
            ticket_renew_after: DEFAULT_TICKET_RENEW_AFTER,
        }
    }

    /// The host this client talks to.
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// The API port.
    pub fn port(&self) -> u16 {
        self.inner.port
    }

    /// Logs in now (ticket auth) so bad credentials show up early; a no-op for API tokens.
    pub async fn authenticate(&self) -> Result<(), PveError> {
        self.request_auth().await.map(|_| ())
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, PveError> {
        Ok(self.call(Method::GET, path, query, None).await?.data)
    }

    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        path: &[&str],
        form: &FormBody,
    ) -> Result<T, PveError> {
        Ok(self.call(Method::POST, path, &[], Some(form)).await?.data)
    }

    pub(crate) async fn delete<T: DeserializeOwned>(
        &self,
        path: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, PveError> {
        Ok(self.call(Method::DELETE, path, query, None).await?.data)
    }

    /// One authenticated call; a ticket rejected with 401 is replaced once and the call retried
    /// (PVE's auth layer answers 401 before any handler runs, so the retry cannot repeat work).
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        form: Option<&FormBody>,
    ) -> Result<ApiResponse<T>, PveError> {
        let auth = self.request_auth().await?;
        let result = self.send(method.clone(), path, query, form, &auth).await;
        match (&result, &auth) {
            (Err(PveError::AuthFailed { .. }), RequestAuth::Ticket(used)) => {
                tracing::debug!("ticket rejected, logging in again");
                self.drop_session(used).await;
                let auth = self.request_auth().await?;
                self.send(method, path, query, form, &auth).await
            }
            _ => result,
        }
    }

    async fn request_auth(&self) -> Result<RequestAuth, PveError> {
        match &self.inner.auth {
            AuthState::Token(header) => Ok(RequestAuth::Token(header.clone())),
            AuthState::Ticket {
                username,
                password,
                renew_after,
                session,
            } => {
                let mut guard = session.lock().await;
                let fresh = match guard.as_ref() {
                    Some(s) if s.obtained.elapsed() < *renew_after => {
                        return Ok(RequestAuth::Ticket(s.clone()));
                    }
                    Some(s) if s.obtained.elapsed() < TICKET_LIFETIME => {
                        match self.login(username, &s.ticket).await {
                            Ok(renewed) => renewed,
                            Err(PveError::AuthFailed { .. }) => {
                                self.login(username, password).await?
                            }
                            Err(other) => return Err(other),
                        }
                    }
                    _ => self.login(username, password).await?,
                };
                *guard = Some(fresh.clone());
                Ok(RequestAuth::Ticket(fresh))
            }
        }
    }

    async fn login(&self, username: &str, secret: &str) -> Result<Session, PveError> {
        let form = ticket_form(username, secret);
        let answer: ApiResponse<TicketData> = self
            .send(
                Method::POST,
                &["access", "ticket"],
                &[],
                Some(&form),
                &RequestAuth::None,
            )
            .await?;
        session_from(answer.data)
    }

    async fn drop_session(&self, used: &Session) {
        if let AuthState::Ticket { session, .. } = &self.inner.auth {
            let mut guard = session.lock().await;
            if guard.as_ref().is_some_and(|s| s.ticket == used.ticket) {
                *guard = None;
            }
        }
    }

    fn url(&self, path: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .expect("an https URL has path segments")
            .extend(path);
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        url
    }

    /// Sends one request and decodes the answer; traced with method, path, status and duration.
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        form: Option<&FormBody>,
        auth: &RequestAuth,
    ) -> Result<ApiResponse<T>, PveError> {
        let url = self.url(path, query);
        let span = tracing::info_span!(
            "pve_call",
            method = %method,
            path = %url.path().trim_start_matches("/api2/json"),
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let method_name = method.to_string();
        let is_write = method != Method::GET;
        let mut request = self.inner.http.request(method, url);
        match auth {
            RequestAuth::None => {}
            RequestAuth::Token(header) => request = request.header(AUTHORIZATION, header.clone()),
            RequestAuth::Ticket(session) => {
                request = request.header(COOKIE, cookie_header(&session.ticket));
                if is_write {
                    request =
                        request.header("CSRFPreventionToken", csrf_header(&session.csrf_token)?);
                }
            }
        }
        if let Some(form) = form {
            request = request
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .body(form.encode());
        }
        let span_for_record = span.clone();
        async move {
            let target = Target {
                host: &self.inner.host,
                port: self.inner.port,
                timeout: self.inner.timeout,
            };
            let mut answered = None;
            let outcome = async {
                let response = request
                    .send()
                    .await
                    .map_err(|e| from_transport(e, &target))?;
                let status = response.status().as_u16();
                span_for_record.record("status", status);
                answered = Some(status);
                let reason = response
                    .extensions()
                    .get::<hyper::ext::ReasonPhrase>()
                    .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| from_transport(e, &target))?;
                decode_response::<T>(status, reason.as_deref(), &body)
            }
            .await;
            let elapsed = started.elapsed();
            span_for_record.record("duration_ms", elapsed.as_millis() as u64);
            crate::metrics::record_call(&method_name, path, answered, elapsed);
            match &outcome {
                Ok(_) => tracing::debug!("PVE call succeeded"),
                Err(err) => tracing::debug!(error = %err, "PVE call failed"),
            }
            outcome
        }
        .instrument(span)
        .await
    }
}
