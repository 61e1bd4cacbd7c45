//! Secrets at rest: AES-256-GCM with a key kept in a file readable only by its owner.
//!
//! A sealed value is `nonce (12 bytes) || ciphertext || tag`. Each value is bound to a purpose
//! label through the associated data, so a ciphertext copied into another column does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use std::io::Write;
use std::path::Path;

const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

/// Why a secret could not be sealed, opened or the key loaded.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the secret key file {path} could not be used: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("a stored secret failed authentication (tampered, or sealed with another key)")]
    Tampered,
    #[error("a stored secret is not valid UTF-8")]
    NotText,
}

/// What a sealed value is for; part of the authenticated data.
#[derive(Clone, Copy, Debug)]
pub enum Purpose {
    NodeTokenSecret,
    RootPassword,
    ContainerCredential,
    /// A container's own SSH private key (OpenSSH format), the one the worker logs in with.
    ContainerSshKey,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::NodeTokenSecret => b"infrahaus:node-token-secret",
            Purpose::RootPassword => b"infrahaus:root-password",
            Purpose::ContainerCredential => b"infrahaus:container-credential",
            Purpose::ContainerSshKey => b"infrahaus:container-ssh-key",
        }
    }
}

/// Seals and opens secrets with one key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key redacted>)")
    }
}

impl SecretBox {
    pub fn from_key(key: &[u8; KEY_LEN]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// Loads the key from `path`, creating a new random key with mode 0600 if the file is absent.
    /// The file holds the key as 64 hex characters.
    pub fn load_or_create(path: &Path) -> Result<Self, CryptoError> {
        let fail = |reason: String| CryptoError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|e| fail(format!("not hex: {e}")))?;
                let key: [u8; KEY_LEN] = bytes
                    .try_into()
                    .map_err(|_| fail("expected 64 hex characters (32 bytes)".into()))?;
                Ok(Self::from_key(&key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; KEY_LEN];
                rand::rngs::OsRng.fill_bytes(&mut key);
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
                }
                // Written under a temporary name, then linked into place: a second process
                // starting at the same moment (server and worker) either wins the link or
                // reads the complete key the first one linked.
                let temp = path.with_extension(format!("tmp.{:016x}", rand::random::<u64>()));
                let _ = std::fs::remove_file(&temp);
                write_private(&temp, hex::encode(key).as_bytes())
                    .map_err(|e| fail(e.to_string()))?;
                let linked = std::fs::hard_link(&temp, path);
                let _ = std::fs::remove_file(&temp);
                match linked {
                    Ok(()) => {
                        tracing::info!(path = %path.display(), "created a new secret key file");
                        Ok(Self::from_key(&key))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::load_or_create(path)
                    }
                    Err(e) => Err(fail(e.to_string())),
                }
            }
            Err(e) => Err(fail(e.to_string())),
        }
    }

    pub fn seal(&self, purpose: Purpose, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: purpose.label(),
        };
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .expect("AES-GCM encryption cannot fail for in-memory buffers");
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(&self, purpose: Purpose, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Tampered);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: purpose.label(),
        };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| CryptoError::Tampered)
    }

    pub fn seal_str(&self, purpose: Purpose, plaintext: &str) -> Vec<u8> {
        self.seal(purpose, plaintext.as_bytes())
    }

    pub fn open_str(&self, purpose: Purpose, sealed: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(purpose, sealed)?).map_err(|_| CryptoError::NotText)
    }
}

/// Writes `contents` to a new file only its owner can read.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_box() -> SecretBox {
        SecretBox::from_key(&[7u8; 32])
    }

    #[test]
    fn round_trip() {
        let b = secret_box();
        let sealed = b.seal_str(Purpose::NodeTokenSecret, "0b5f-secret");
        assert!(!sealed.windows(6).any(|w| w == b"0b5f-s"));
        assert_eq!(
            b.open_str(Purpose::NodeTokenSecret, &sealed).unwrap(),
            "0b5f-secret"
        );
    }

    #[test]
    fn same_plaintext_seals_differently() {
        let b = secret_box();
        assert_ne!(
            b.seal(Purpose::RootPassword, b"x"),
            b.seal(Purpose::RootPassword, b"x")
        );
    }

    #[test]
    fn tampering_is_detected() {
        let b = secret_box();
        let sealed = b.seal(Purpose::RootPassword, b"hunter22");
        for i in [0, NONCE_LEN, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(matches!(
                b.open(Purpose::RootPassword, &bad),
                Err(CryptoError::Tampered)
            ));
        }
        assert!(matches!(
            b.open(Purpose::RootPassword, &sealed[..5]),
            Err(CryptoError::Tampered)
        ));
    }

    #[test]
    fn wrong_key_or_purpose_fails() {
        let sealed = secret_box().seal(Purpose::RootPassword, b"hunter22");
        let other = SecretBox::from_key(&[8u8; 32]);
        assert!(other.open(Purpose::RootPassword, &sealed).is_err());
        assert!(
            secret_box()
                .open(Purpose::ContainerCredential, &sealed)
                .is_err()
        );
    }

    #[test]
    fn processes_creating_the_key_at_once_agree_on_it() {
        let dir = std::env::temp_dir().join(format!("infrahaus-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("secret.key");
        let boxes: Vec<SecretBox> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| SecretBox::load_or_create(&path).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let sealed = boxes[0].seal(Purpose::RootPassword, b"same key");
        for b in &boxes {
            assert_eq!(b.open(Purpose::RootPassword, &sealed).unwrap(), b"same key");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn key_file_created_private_and_reloaded() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("infrahaus-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("secret.key");
        let first = SecretBox::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sealed = first.seal(Purpose::RootPassword, b"abc");
        let second = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(second.open(Purpose::RootPassword, &sealed).unwrap(), b"abc");
        std::fs::write(&path, "zz").unwrap();
        assert!(matches!(
            SecretBox::load_or_create(&path),
            Err(CryptoError::KeyFile { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
