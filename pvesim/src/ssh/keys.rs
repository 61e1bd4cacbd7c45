//! SSH host keys (ed25519, persisted as OpenSSH private keys) and authorized keys.

use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::ssh_key::{HashAlg, LineEnding};
use russh::keys::{PrivateKey, PublicKey};

/// An ed25519 host key.
#[derive(Clone)]
pub struct HostKey(PrivateKey);

impl HostKey {
    pub fn generate() -> Result<Self, russh::keys::ssh_key::Error> {
        use rand::RngCore;
        let mut seed = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut seed);
        Ok(Self(PrivateKey::from(Ed25519Keypair::from_seed(&seed))))
    }

    pub fn from_openssh(text: &str) -> Result<Self, russh::keys::ssh_key::Error> {
        PrivateKey::from_openssh(text).map(Self)
    }

    /// Loads the key stored at `path`, creating it on first use.
    pub fn load_or_create(path: &std::path::Path) -> Result<Self, crate::error::SimError> {
        let key_error = |e: russh::keys::ssh_key::Error| crate::error::SimError::Key(e.to_string());
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_openssh(&text).map_err(key_error),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate().map_err(key_error)?;
                std::fs::write(path, key.private_openssh().map_err(key_error)?)?;
                Ok(key)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn private_openssh(&self) -> Result<String, russh::keys::ssh_key::Error> {
        Ok(self.0.to_openssh(LineEnding::LF)?.to_string())
    }

    /// `ssh-ed25519 AAAA...`
    pub fn public_openssh(&self) -> String {
        self.0.public_key().to_openssh().unwrap_or_default()
    }

    /// `SHA256:...`, as `ssh-keygen -l` and PVE's create log show it.
    pub fn fingerprint(&self) -> String {
        self.0.public_key().fingerprint(HashAlg::Sha256).to_string()
    }

    pub fn private_key(&self) -> &PrivateKey {
        &self.0
    }
}

/// Parses OpenSSH public key lines, skipping ones that do not parse.
pub fn parse_authorized(lines: &[String]) -> Vec<PublicKey> {
    lines
        .iter()
        .filter_map(|l| PublicKey::from_openssh(l.trim()).ok())
        .collect()
}

/// Whether `key` is one of `authorized` (comments ignored).
pub fn is_authorized(key: &PublicKey, authorized: &[PublicKey]) -> bool {
    authorized.iter().any(|a| a.key_data() == key.key_data())
}
