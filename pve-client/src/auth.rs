//! Credentials and the ticket session.
//!
//! API tokens go into an `Authorization: PVEAPIToken=<user@realm!id>=<secret>` header on every
//! call. Username/password logins get a ticket from `POST /access/ticket`; the client sends it as
//! the `PVEAuthCookie` cookie (PVE sends no Set-Cookie), adds `CSRFPreventionToken` to every
//! non-GET call, and renews the ticket (by posting it as the password) before its 2 h lifetime
//! ends.

use std::fmt;
use std::time::{Duration, Instant};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderValue;
use serde::Deserialize;

use crate::decode::bool_from_int;
use crate::error::PveError;
use crate::form::FormBody;

/// How long PVE accepts a ticket.
pub const TICKET_LIFETIME: Duration = Duration::from_secs(2 * 3600);

/// Default age after which the client renews its ticket: well before [`TICKET_LIFETIME`].
pub const DEFAULT_TICKET_RENEW_AFTER: Duration = Duration::from_secs(3600);

/// Credentials for the PVE API. `Debug` never shows the secret or password.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// An API token: `token_id` is `user@realm!tokenname`, `secret` the UUID PVE showed once.
    ApiToken { token_id: String, secret: String },
    /// A user login (`user@realm`, e.g. `root@pam`) that obtains tickets.
    Password { username: String, password: String },
}

impl Auth {
    /// Checks the shapes PVE requires, so mistakes are reported before any network call.
    pub fn validate(&self) -> Result<(), PveError> {
        match self {
            Auth::ApiToken { token_id, secret } => {
                let Some((user, name)) = token_id.split_once('!') else {
                    return Err(PveError::InvalidConfig(
                        "the API token ID must look like user@realm!tokenname (e.g. \
                         root@pam!infrahaus)"
                            .into(),
                    ));
                };
                if !user.contains('@') || name.is_empty() {
                    return Err(PveError::InvalidConfig(
                        "the API token ID must look like user@realm!tokenname (e.g. \
                         root@pam!infrahaus)"
                            .into(),
                    ));
                }
                if secret.trim().is_empty() {
                    return Err(PveError::InvalidConfig(
                        "the API token secret is empty".into(),
                    ));
                }
            }
            Auth::Password { username, password } => {
                if !username.contains('@') {
                    return Err(PveError::InvalidConfig(
                        "the username must include the realm, e.g. root@pam or alice@pve".into(),
                    ));
                }
                if password.is_empty() {
                    return Err(PveError::InvalidConfig("the password is empty".into()));
                }
            }
        }
        Ok(())
    }

    /// The user (and token) the credentials act as, safe to show.
    pub fn principal(&self) -> &str {
        match self {
            Auth::ApiToken { token_id, .. } => token_id,
            Auth::Password { username, .. } => username,
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::ApiToken { token_id, .. } => f
                .debug_struct("ApiToken")
                .field("token_id", token_id)
                .field("secret", &"<redacted>")
                .finish(),
            Auth::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// The `data` of `POST /access/ticket`.
#[derive(Clone, Deserialize)]
pub struct TicketData {
    /// The user the ticket belongs to.
    pub username: String,
    /// The ticket (`PVE:<user>:<hex time>::<signature>`).
    pub ticket: String,
    /// The CSRF token for non-GET calls.
    #[serde(rename = "CSRFPreventionToken")]
    pub csrf_token: String,
    /// Set when the login must be finished with a second factor.
    #[serde(rename = "NeedTFA", default, deserialize_with = "bool_from_int")]
    pub need_tfa: bool,
    /// Cluster name (only when clustered and the user has Sys.Audit on /).
    #[serde(default)]
    pub clustername: Option<String>,
}

impl fmt::Debug for TicketData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketData")
            .field("username", &self.username)
            .field("ticket", &"<redacted>")
            .field("csrf_token", &"<redacted>")
            .field("need_tfa", &self.need_tfa)
            .field("clustername", &self.clustername)
            .finish()
    }
}

/// A live ticket and when it was obtained.
#[derive(Clone)]
pub(crate) struct Session {
    pub ticket: String,
    pub csrf_token: String,
    pub obtained: Instant,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("obtained", &self.obtained)
            .finish_non_exhaustive()
    }
}

/// What to send for one request's authentication.
#[derive(Clone)]
pub(crate) enum RequestAuth {
    /// Nothing (the ticket call itself).
    None,
    /// The token header.
    Token(HeaderValue),
    /// Ticket cookie plus the CSRF token for writes.
    Ticket(Session),
}

/// The per-client auth state behind the `Arc`.
pub(crate) enum AuthState {
    Token(HeaderValue),
    Ticket {
        username: String,
        password: String,
        renew_after: Duration,
        session: tokio::sync::Mutex<Option<Session>>,
    },
}

impl AuthState {
    pub(crate) fn new(auth: &Auth, renew_after: Duration) -> Result<Self, PveError> {
        auth.validate()?;
        Ok(match auth {
            Auth::ApiToken { token_id, secret } => {
                let mut value =
                    HeaderValue::from_str(&format!("PVEAPIToken={token_id}={}", secret.trim()))
                        .map_err(|_| {
                            PveError::InvalidConfig(
                                "the API token ID or secret contains characters that cannot be \
                                 sent in a header"
                                    .into(),
                            )
                        })?;
                value.set_sensitive(true);
                AuthState::Token(value)
            }
            Auth::Password { username, password } => AuthState::Ticket {
                username: username.clone(),
                password: password.clone(),
                renew_after,
                session: tokio::sync::Mutex::new(None),
            },
        })
    }
}

/// The `Cookie` header for a ticket (percent-encoded; PVE unescapes it).
pub(crate) fn cookie_header(ticket: &str) -> HeaderValue {
    let mut value = HeaderValue::from_str(&format!(
        "PVEAuthCookie={}",
        utf8_percent_encode(ticket, NON_ALPHANUMERIC)
    ))
    .expect("percent-encoded text is a valid header value");
    value.set_sensitive(true);
    value
}

/// The `CSRFPreventionToken` header value.
pub(crate) fn csrf_header(token: &str) -> Result<HeaderValue, PveError> {
    let mut value = HeaderValue::from_str(token).map_err(|_| PveError::Decode {
        message: "the CSRF token contains characters that cannot be sent back".into(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// The login form: a password, or a still-valid ticket to renew.
pub(crate) fn ticket_form(username: &str, password_or_ticket: &str) -> FormBody {
    FormBody::new()
        .text("username", username)
        .text("password", password_or_ticket)
}

/// Turns a ticket answer into a session, refusing logins that need a second factor.
pub(crate) fn session_from(data: TicketData) -> Result<Session, PveError> {
    if data.need_tfa {
        return Err(PveError::UnsupportedAuth {
            reason: "a second factor (TFA) to log in".into(),
        });
    }
    Ok(Session {
        ticket: data.ticket,
        csrf_token: data.csrf_token,
        obtained: Instant::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let token = Auth::ApiToken {
            token_id: "root@pam!ci".into(),
            secret: "6f1c1d2e-secret".into(),
        };
        let pass = Auth::Password {
            username: "root@pam".into(),
            password: "hunter22".into(),
        };
        let text = format!("{token:?} {pass:?}");
        assert!(text.contains("root@pam!ci"));
        assert!(
            !text.contains("6f1c1d2e") && !text.contains("hunter22"),
            "{text}"
        );
    }

    #[test]
    fn validate_catches_common_mistakes() {
        let bad = [
            Auth::ApiToken {
                token_id: "root@pam".into(),
                secret: "x".into(),
            },
            Auth::ApiToken {
                token_id: "root!ci".into(),
                secret: "x".into(),
            },
            Auth::ApiToken {
                token_id: "root@pam!ci".into(),
                secret: " ".into(),
            },
            Auth::Password {
                username: "root".into(),
                password: "x".into(),
            },
        ];
        for auth in bad {
            assert!(
                matches!(auth.validate(), Err(PveError::InvalidConfig(_))),
                "{auth:?}"
            );
        }
    }

    #[test]
    fn cookie_is_percent_encoded() {
        let v = cookie_header("PVE:root@pam:4EEC61E2::a+b/c=");
        assert_eq!(
            v.to_str().unwrap(),
            "PVEAuthCookie=PVE%3Aroot%40pam%3A4EEC61E2%3A%3Aa%2Bb%2Fc%3D"
        );
        assert!(v.is_sensitive());
    }
}
