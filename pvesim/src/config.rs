//! Simulator configuration: addresses, state directory, nodes, credentials, fault knobs.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::auth::privs;
use crate::error::SimError;
use crate::faults::Faults;

/// A user that can log in with a password (`user@realm:PASSWORD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub userid: String,
    pub password: String,
}

impl FromStr for UserSpec {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| SimError::InvalidSpec {
            what: "user",
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let (userid, password) = s
            .split_once(':')
            .ok_or_else(|| bad("expected user@realm:PASSWORD"))?;
        if !crate::auth::is_valid_userid(userid) {
            return Err(bad("the user id must look like user@realm"));
        }
        Ok(Self {
            userid: userid.to_string(),
            password: password.to_string(),
        })
    }
}

/// An API token (`user@realm!tokenid=SECRET`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// `user@realm!tokenid`
    pub tokenid: String,
    pub secret: String,
}

impl TokenSpec {
    /// The user part of the token id.
    pub fn userid(&self) -> &str {
        self.tokenid
            .split_once('!')
            .map_or(self.tokenid.as_str(), |(u, _)| u)
    }

    /// The value of the `Authorization` header that authenticates with this token.
    pub fn header_value(&self) -> String {
        format!("PVEAPIToken={}={}", self.tokenid, self.secret)
    }
}

impl FromStr for TokenSpec {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| SimError::InvalidSpec {
            what: "token",
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let (tokenid, secret) = s
            .rsplit_once('=')
            .ok_or_else(|| bad("expected user@realm!id=SECRET"))?;
        if !crate::auth::is_valid_tokenid(tokenid) || secret.is_empty() {
            return Err(bad("expected user@realm!id=SECRET"));
        }
        Ok(Self {
            tokenid: tokenid.to_string(),
            secret: secret.to_string(),
        })
    }
}

/// Privileges granted to a user or token (`AUTHID=SPEC`), on every path.
///
/// SPEC is a list of role names (`Administrator`, `PVEAuditor`, `PVEVMAdmin`, `PVEVMUser`,
/// `PVEDatastoreUser`, `PVEDatastoreAdmin`, `PVESDNUser`, `PVETemplateUser`, `NoAccess`) and
/// privilege names (`VM.Audit`, ...) separated by `,` or `+`. Without a spec a user has every
/// privilege and a token has those of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivSpec {
    pub authid: String,
    pub privileges: Vec<String>,
}

impl FromStr for PrivSpec {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| SimError::InvalidSpec {
            what: "privilege spec",
            value: s.to_string(),
            reason,
        };
        let (authid, spec) = s
            .split_once('=')
            .ok_or_else(|| bad("expected AUTHID=ROLE,PRIV,...".into()))?;
        if !crate::auth::is_valid_userid(authid) && !crate::auth::is_valid_tokenid(authid) {
            return Err(bad("AUTHID must be user@realm or user@realm!tokenid".into()));
        }
        let privileges = privs::resolve_spec(spec).map_err(bad)?;
        Ok(Self {
            authid: authid.to_string(),
            privileges,
        })
    }
}

/// The 127.x range containers get their SSH address from when net0 has no loopback address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPool {
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl IpPool {
    /// A random /24 in 127.64.0.0/10, so simulators running side by side rarely collide.
    pub fn random_loopback() -> Self {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        Self {
            base: Ipv4Addr::new(127, rng.gen_range(64..128), rng.gen_range(0..=255), 0),
            prefix: 24,
        }
    }
}

impl FromStr for IpPool {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| SimError::InvalidSpec {
            what: "IP pool",
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let (ip, prefix) = s
            .split_once('/')
            .ok_or_else(|| bad("expected 127.A.B.C/PREFIX"))?;
        let base: Ipv4Addr = ip.parse().map_err(|_| bad("not an IPv4 address"))?;
        let prefix: u8 = prefix.parse().map_err(|_| bad("bad prefix length"))?;
        if base.octets()[0] != 127 || !(8..=30).contains(&prefix) {
            return Err(bad(
                "the pool must lie in 127.0.0.0/8 with a prefix of 8..=30",
            ));
        }
        Ok(Self { base, prefix })
    }
}

/// Everything the simulator needs to start. Build one with [`SimConfig::builder`].
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// API listen address (HTTPS).
    pub listen: SocketAddr,
    /// Where state, certificate and container roots live; `None` = a temporary directory
    /// removed when the handle is dropped.
    pub state_dir: Option<PathBuf>,
    /// Node names; the first one owns the node SSH endpoint.
    pub nodes: Vec<String>,
    pub users: Vec<UserSpec>,
    pub tokens: Vec<TokenSpec>,
    pub privileges: Vec<PrivSpec>,
    /// Port every container's SSH server listens on; 0 = pick one free port at start.
    pub ssh_port: u16,
    pub ip_pool: IpPool,
    /// The node's own SSH endpoint (for `pct exec` / `pct push`); `None` = disabled.
    pub node_ssh: Option<SocketAddr>,
    /// OpenSSH public keys accepted by the node SSH endpoint (user root).
    pub node_ssh_authorized_keys: Vec<String>,
    /// Initial fault and delay settings.
    pub faults: Faults,
    /// How long auth failures (401) are delayed; PVE waits about 3 seconds.
    pub auth_failure_delay: Duration,
}

impl SimConfig {
    /// A builder with test-friendly defaults: port-0 binds on 127.0.0.1, a temporary state
    /// directory, node `pve`, user `root@pam` with password `pvesim`, token
    /// `root@pam!pvesim` with a random secret, no auth delay, short task delays.
    pub fn builder() -> SimConfigBuilder {
        SimConfigBuilder::default()
    }
}

/// Builder for [`SimConfig`].
#[derive(Debug, Clone)]
pub struct SimConfigBuilder {
    config: SimConfig,
    custom_credentials: bool,
}

impl Default for SimConfigBuilder {
    fn default() -> Self {
        Self {
            config: SimConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                state_dir: None,
                nodes: Vec::new(),
                users: Vec::new(),
                tokens: Vec::new(),
                privileges: Vec::new(),
                ssh_port: 0,
                ip_pool: IpPool::random_loopback(),
                node_ssh: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
                node_ssh_authorized_keys: Vec::new(),
                faults: Faults::fast(),
                auth_failure_delay: Duration::ZERO,
            },
            custom_credentials: false,
        }
    }
}

impl SimConfigBuilder {
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.config.listen = addr;
        self
    }

    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.state_dir = Some(dir.into());
        self
    }

    /// Adds a node; without any the simulator has one node named `pve`.
    pub fn node(mut self, name: impl Into<String>) -> Self {
        self.config.nodes.push(name.into());
        self
    }

    /// Adds a password user; giving any user or token drops the default credentials.
    pub fn user(mut self, userid: impl Into<String>, password: impl Into<String>) -> Self {
        self.custom_credentials = true;
        self.config.users.push(UserSpec {
            userid: userid.into(),
            password: password.into(),
        });
        self
    }

    /// Adds an API token (`user@realm!id`); giving any user or token drops the defaults.
    pub fn token(mut self, tokenid: impl Into<String>, secret: impl Into<String>) -> Self {
        self.custom_credentials = true;
        self.config.tokens.push(TokenSpec {
            tokenid: tokenid.into(),
            secret: secret.into(),
        });
        self
    }

    /// Restricts a user or token to the given roles/privileges (see [`PrivSpec`]).
    pub fn privileges(mut self, authid: &str, spec: &str) -> Result<Self, SimError> {
        self.config
            .privileges
            .push(format!("{authid}={spec}").parse()?);
        Ok(self)
    }

    pub fn ssh_port(mut self, port: u16) -> Self {
        self.config.ssh_port = port;
        self
    }

    pub fn ip_pool(mut self, pool: IpPool) -> Self {
        self.config.ip_pool = pool;
        self
    }

    pub fn node_ssh(mut self, addr: Option<SocketAddr>) -> Self {
        self.config.node_ssh = addr;
        self
    }

    /// Accepts this OpenSSH public key for `root` on the node SSH endpoint.
    pub fn node_ssh_authorized_key(mut self, key: impl Into<String>) -> Self {
        self.config.node_ssh_authorized_keys.push(key.into());
        self
    }

    pub fn faults(mut self, faults: Faults) -> Self {
        self.config.faults = faults;
        self
    }

    pub fn auth_failure_delay(mut self, delay: Duration) -> Self {
        self.config.auth_failure_delay = delay;
        self
    }

    pub fn build(mut self) -> SimConfig {
        if self.config.nodes.is_empty() {
            self.config.nodes.push("pve".to_string());
        }
        if !self.custom_credentials && self.config.users.is_empty() && self.config.tokens.is_empty()
        {
            self.config.users.push(UserSpec {
                userid: "root@pam".into(),
                password: "pvesim".into(),
            });
            self.config.tokens.push(TokenSpec {
                tokenid: "root@pam!pvesim".into(),
                secret: uuid::Uuid::new_v4().to_string(),
            });
        }
        self.config
    }
}
