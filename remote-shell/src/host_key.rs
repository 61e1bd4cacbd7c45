//! [`HostKey`]: a server's public host key, as pinned by the caller on first use.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use russh::keys::{Algorithm, HashAlg, PublicKey};

use crate::error::RemoteError;

/// A server's public host key.
///
/// Stored as an OpenSSH public-key line without comment, `ssh-ed25519 AAAA…`
/// ([`to_openssh`](Self::to_openssh)); [`parse`](Self::parse) accepts the same line, with or
/// without a trailing comment. Two keys are equal when their key data is.
#[derive(Clone)]
pub struct HostKey(Arc<PublicKey>);

impl HostKey {
    /// Parses an OpenSSH public-key line such as `ssh-ed25519 AAAA… [comment]`.
    pub fn parse(openssh: &str) -> Result<Self, RemoteError> {
        PublicKey::from_openssh(openssh.trim())
            .map(HostKey::from)
            .map_err(|e| RemoteError::InvalidHostKey(e.to_string()))
    }

    /// The line to store and later pass back to pin this key.
    pub fn to_openssh(&self) -> String {
        self.0
            .to_openssh()
            .expect("a decoded public key encodes again")
    }

    /// `SHA256:…`, as `ssh-keygen -l` prints it; for messages, not for pinning.
    pub fn fingerprint(&self) -> String {
        self.0.fingerprint(HashAlg::Sha256).to_string()
    }

    /// `SHA256:… or SHA256:…`: the fingerprints of `keys`, for messages.
    pub fn fingerprints(keys: &[HostKey]) -> String {
        keys.iter()
            .map(HostKey::fingerprint)
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// The key algorithm, e.g. `ssh-ed25519`.
    pub fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }

    /// Whether `key` is this key.
    pub(crate) fn matches(&self, key: &PublicKey) -> bool {
        self.0.key_data() == key.key_data()
    }
}

impl From<PublicKey> for HostKey {
    fn from(mut key: PublicKey) -> Self {
        key.set_comment("");
        HostKey(Arc::new(key))
    }
}

impl PartialEq for HostKey {
    fn eq(&self, other: &Self) -> bool {
        self.matches(&other.0)
    }
}

impl Eq for HostKey {}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_openssh())
    }
}

impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostKey({} {})", self.algorithm(), self.fingerprint())
    }
}

impl FromStr for HostKey {
    type Err = RemoteError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HostKey::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::HostKey;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAU4S0LXW6xVDoacFwCx+URJbbIOIDQ4c3j2wF0mpAjF";

    #[test]
    fn round_trips_without_comment() {
        let key = HostKey::parse(&format!("{KEY} root@somewhere\n")).unwrap();
        assert_eq!(key.to_openssh(), KEY);
        assert_eq!(key, HostKey::parse(KEY).unwrap());
        assert!(key.fingerprint().starts_with("SHA256:"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(HostKey::parse("ssh-ed25519 not-base64").is_err());
        assert!(HostKey::parse("SHA256:abc").is_err());
    }
}
