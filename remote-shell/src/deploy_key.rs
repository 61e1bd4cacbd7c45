//! [`DeployKey`]: an ed25519 key pair the worker logs in with: the node key, created on first
//! start and kept on disk, and each container's own key, kept sealed in the database.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use rand::RngCore;
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{Algorithm, HashAlg, PrivateKey};

use crate::error::RemoteError;

/// An SSH key pair of the worker: the node key (its public half in the Proxmox nodes'
/// `authorized_keys`), or a container's own key (its public half in that container's
/// `ssh-public-keys`). The private half never leaves the worker unsealed. `Debug` shows only
/// the fingerprint.
#[derive(Clone)]
pub struct DeployKey(Arc<PrivateKey>);

impl DeployKey {
    /// The comment on the node key's public line.
    pub const COMMENT: &'static str = "infrahaus-worker";

    /// A new random node key, held in memory only.
    pub fn generate() -> Self {
        Self::generate_with_comment(Self::COMMENT)
    }

    /// A new random key whose public line ends with `comment` (e.g. `infrahaus-ct-120`).
    pub fn generate_with_comment(comment: &str) -> Self {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
        seed.fill(0);
        key.set_comment(comment);
        DeployKey(Arc::new(key))
    }

    /// Calls `seal` with the private key in OpenSSH format (to seal it before it is stored
    /// anywhere); the text is wiped from memory afterwards.
    pub fn with_openssh_private<T>(&self, seal: impl FnOnce(&str) -> T) -> Result<T, RemoteError> {
        let pem = self
            .0
            .to_openssh(LineEnding::LF)
            .map_err(|e| key_error(Path::new("<memory>"), e))?;
        Ok(seal(&pem))
    }

    /// Reads the key at `path`, or creates it there (mode 0600, OpenSSH format, parent
    /// directories 0700) when there is none yet. Blocking: call it once at start-up.
    ///
    /// Two processes starting at once end up with the same key: the file is written under a
    /// temporary name and hard-linked into place, and the loser reads the winner's key.
    pub fn load_or_create(path: &Path) -> Result<Self, RemoteError> {
        match fs::read_to_string(path) {
            Ok(pem) => Self::from_file_contents(path, &pem),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Self::create(path),
            Err(e) => Err(key_error(path, e)),
        }
    }

    /// Parses an unencrypted ed25519 private key in OpenSSH format.
    pub fn from_openssh(pem: &str) -> Result<Self, RemoteError> {
        Self::from_file_contents(Path::new("<memory>"), pem)
    }

    /// `ssh-ed25519 AAAA… COMMENT`: the line for `authorized_keys` and Proxmox's
    /// `ssh-public-keys`; the comment is the key's own, or [`COMMENT`](Self::COMMENT) if it
    /// has none.
    pub fn public_openssh(&self) -> String {
        let mut public = self.0.public_key().clone();
        if public.comment().is_empty() {
            public.set_comment(Self::COMMENT);
        }
        public
            .to_openssh()
            .expect("an ed25519 public key always encodes")
    }

    /// Whether `line` (an `authorized_keys` line, options and comment allowed) holds this key.
    pub fn is_in_line(&self, line: &str) -> bool {
        let Ok(ours) = self.0.public_key().to_openssh() else {
            return false;
        };
        let Some(blob) = ours.split_whitespace().nth(1) else {
            return false;
        };
        line.split_whitespace().any(|word| word == blob)
    }

    /// `SHA256:…` of the public key.
    pub fn fingerprint(&self) -> String {
        self.0.fingerprint(HashAlg::Sha256).to_string()
    }

    pub(crate) fn private_key(&self) -> Arc<PrivateKey> {
        Arc::clone(&self.0)
    }

    fn from_file_contents(path: &Path, pem: &str) -> Result<Self, RemoteError> {
        let key = PrivateKey::from_openssh(pem).map_err(|e| key_error(path, e))?;
        if key.is_encrypted() {
            return Err(key_error(path, "the key is encrypted"));
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(key_error(
                path,
                format!("expected an ed25519 key, found {}", key.algorithm()),
            ));
        }
        Ok(DeployKey(Arc::new(key)))
    }

    fn create(path: &Path) -> Result<Self, RemoteError> {
        let key = Self::generate();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| key_error(path, e))?;
        }
        let pem = key
            .0
            .to_openssh(LineEnding::LF)
            .map_err(|e| key_error(path, e))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temp = path.with_file_name(format!(".{name}.{:08x}.tmp", rand::random::<u32>()));
        let written =
            write_private(&temp, pem.as_bytes()).and_then(|()| fs::hard_link(&temp, path));
        let _ = fs::remove_file(&temp);
        match written {
            Ok(()) => {
                tracing::info!(path = %path.display(), fingerprint = %key.fingerprint(), "created deploy key");
                Ok(key)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Self::load_or_create(path),
            Err(e) => Err(key_error(path, e)),
        }
    }
}

/// Writes a new file readable by its owner only.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    // The mode above is filtered by the umask; make sure it is exactly 0600.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(contents)?;
    file.sync_all()
}

fn key_error(path: &Path, e: impl fmt::Display) -> RemoteError {
    RemoteError::DeployKey {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

impl fmt::Debug for DeployKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeployKey({})", self.fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::DeployKey;

    #[test]
    fn creates_once_then_loads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/deploy_ed25519");
        let created = DeployKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let loaded = DeployKey::load_or_create(&path).unwrap();
        assert_eq!(created.public_openssh(), loaded.public_openssh());
        assert_eq!(
            std::fs::read_dir(dir.path().join("keys")).unwrap().count(),
            1
        );
    }

    #[test]
    fn public_line_is_openssh_with_comment() {
        let line = DeployKey::generate().public_openssh();
        assert!(line.starts_with("ssh-ed25519 AAAA"), "{line}");
        assert!(line.ends_with(" infrahaus-worker"), "{line}");
    }

    #[test]
    fn a_container_key_round_trips_with_its_comment() {
        let key = DeployKey::generate_with_comment("infrahaus-ct-120");
        let pem = key.with_openssh_private(str::to_owned).unwrap();
        assert!(pem.contains("OPENSSH PRIVATE KEY"));
        let again = DeployKey::from_openssh(&pem).unwrap();
        assert_eq!(again.public_openssh(), key.public_openssh());
        assert!(key.public_openssh().ends_with(" infrahaus-ct-120"));
    }

    #[test]
    fn finds_itself_in_authorized_keys_lines() {
        let key = DeployKey::generate();
        let line = key.public_openssh();
        let blob = line.split(' ').nth(1).unwrap();
        assert!(key.is_in_line(&line));
        assert!(key.is_in_line(&format!("from=\"10.0.0.1\" ssh-ed25519 {blob} other")));
        assert!(!key.is_in_line(&DeployKey::generate().public_openssh()));
        assert!(!key.is_in_line(""));
    }

    #[test]
    fn refuses_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "not a key").unwrap();
        assert!(DeployKey::load_or_create(&path).is_err());
    }

    #[test]
    fn debug_shows_only_the_fingerprint() {
        let debug = format!("{:?}", DeployKey::generate());
        assert!(debug.starts_with("DeployKey(SHA256:"), "{debug}");
    }
}
