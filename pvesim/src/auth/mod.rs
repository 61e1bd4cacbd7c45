//! Users, API tokens, their privileges, and who a request is.

pub mod privs;
pub mod ticket;

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::config::SimConfig;
use privs::PrivSet;
use ticket::TicketSigner;

static USERID_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$").expect("static regex"));
static TOKENID_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$")
        .expect("static regex")
});

/// `user@realm`, at most 64 characters.
pub fn is_valid_userid(s: &str) -> bool {
    s.len() <= 64 && USERID_RE.is_match(s)
}

/// `user@realm!tokenid`.
pub fn is_valid_tokenid(s: &str) -> bool {
    TOKENID_RE.is_match(s)
}

/// Who sent an authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Authenticated with a ticket.
    User(String),
    /// Authenticated with an API token; `tokenid` is the full `user@realm!id`.
    Token { tokenid: String },
}

impl Identity {
    /// `user@realm` or `user@realm!tokenid`, as PVE writes it into UPIDs.
    pub fn authid(&self) -> &str {
        match self {
            Identity::User(u) => u,
            Identity::Token { tokenid } => tokenid,
        }
    }

    pub fn is_token(&self) -> bool {
        matches!(self, Identity::Token { .. })
    }
}

/// Configured credentials and privileges plus the ticket signer.
pub struct Accounts {
    passwords: HashMap<String, String>,
    tokens: HashMap<String, String>,
    privileges: HashMap<String, PrivSet>,
    pub signer: TicketSigner,
}

impl Accounts {
    pub fn new(config: &SimConfig, ticket_key: [u8; 32]) -> Self {
        Self {
            passwords: config
                .users
                .iter()
                .map(|u| (u.userid.clone(), u.password.clone()))
                .collect(),
            tokens: config
                .tokens
                .iter()
                .map(|t| (t.tokenid.clone(), t.secret.clone()))
                .collect(),
            privileges: config
                .privileges
                .iter()
                .map(|p| (p.authid.clone(), PrivSet::from_names(&p.privileges)))
                .collect(),
            signer: TicketSigner::new(ticket_key),
        }
    }

    pub fn check_password(&self, userid: &str, password: &str) -> bool {
        self.passwords.get(userid).is_some_and(|p| p == password)
    }

    pub fn password_of(&self, userid: &str) -> Option<&str> {
        self.passwords.get(userid).map(String::as_str)
    }

    pub fn check_token(&self, tokenid: &str, secret: &str) -> bool {
        self.tokens.get(tokenid).is_some_and(|s| s == secret)
    }

    /// Whether a user exists (has a password or owns a token).
    pub fn user_exists(&self, userid: &str) -> bool {
        self.passwords.contains_key(userid)
            || self
                .tokens
                .keys()
                .any(|t| t.split_once('!').is_some_and(|(u, _)| u == userid))
    }

    fn user_privileges(&self, userid: &str) -> PrivSet {
        if userid == "root@pam" {
            return PrivSet::all();
        }
        self.privileges
            .get(userid)
            .cloned()
            .unwrap_or_else(PrivSet::all)
    }

    /// Effective privileges: a user's own, or for a token its user's intersected with its own.
    pub fn privileges_of(&self, authid: &str) -> PrivSet {
        match authid.split_once('!') {
            None => self.user_privileges(authid),
            Some((userid, _)) => {
                let user = self.user_privileges(userid);
                match self.privileges.get(authid) {
                    Some(token) => user.intersect(token),
                    None => user,
                }
            }
        }
    }
}
