//! Phase 5, Finalize (90–100 %): read the credentials the scripts left, store them sealed,
//! discover the services, store them. The `complete` event and lifecycle `ready` follow in
//! [`Job::run`](super::job::Job).

use std::time::Duration;

use backend::events::REDACTED;
use backend::models::event::EventRow;
use backend::models::{CredentialRow, ServiceRow};
use domain::container::{Credential, Phase};
use domain::spec::Ipv4Config;
use domain::template::safe_file_name;
use remote_shell::{
    AnyTarget, Command, EntryKind, ExecOptions, RemoteError, RemotePath, RemoteTarget,
};

use super::config_manager as cm;
use super::failure::{Failure, InfraExt};
use super::job::Job;
use super::services;

/// Largest credential file read.
const CREDENTIAL_LIMIT: usize = 64 * 1024;
/// Most credential files read.
const CREDENTIAL_COUNT: usize = 100;

impl Job<'_> {
    pub(super) async fn finalize(&mut self) -> Result<(), Failure> {
        let (from, _) = Phase::Finalize.percent_range();
        self.step(Phase::Finalize, from, "Reading credentials")
            .await?;
        let target = self.ensure_target().await?;
        let credentials = self.read_credentials(&target).await?;
        {
            let mut conn = self.conn().await?;
            CredentialRow::replace_all(&mut conn, &self.deps.secrets, self.id, &credentials)
                .await
                .infra("storing the credentials")?;
        }
        let names: Vec<&str> = credentials.iter().map(|c| c.name.as_str()).collect();
        self.log(&match names.as_slice() {
            [] => "No credentials left by the scripts.".to_owned(),
            names => format!("Stored {} credential(s): {}", names.len(), names.join(", ")),
        })
        .await?;

        self.step(Phase::Finalize, from + 5, "Discovering services")
            .await?;
        if self.ip.is_none() && self.spec.ipv4 == Ipv4Config::Dhcp {
            self.ip = self.dhcp_address(Duration::ZERO).await?;
            self.store_ip().await?;
        }
        let found = self.discover_services(&target).await?;
        {
            let mut conn = self.conn().await?;
            ServiceRow::replace_all(&mut conn, self.id, &found)
                .await
                .infra("storing the services")?;
        }
        for service in &found {
            let port = service
                .port
                .map(|p| format!(" on port {p}"))
                .unwrap_or_default();
            let url = service
                .url
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default();
            self.log(&format!("Service {}{port}{url}", service.name))
                .await?;
        }
        if found.is_empty() {
            self.log("No services found besides the base system.")
                .await?;
        }
        Ok(())
    }

    /// The credentials the scripts left, each registered for redaction before anything else
    /// happens with it; files that cannot be credentials are named in the log.
    async fn read_credentials(&mut self, target: &AnyTarget) -> Result<Vec<Credential>, Failure> {
        let scan = scan_credentials(target).await?;
        for credential in &scan.found {
            self.redact(&credential.value);
        }
        for note in &scan.skipped {
            self.log(note).await?;
        }
        Ok(scan.found)
    }

    /// After a script: hides the credentials it wrote from every later event, and from the
    /// events already stored (a script may have printed one before it was known).
    pub(super) async fn learn_credentials(&mut self, target: &AnyTarget) -> Result<(), Failure> {
        let scan = scan_credentials(target).await?;
        if scan.found.is_empty() {
            return Ok(());
        }
        for credential in &scan.found {
            self.redact(&credential.value);
        }
        self.sink.flush().await?;
        let mut conn = self.conn().await?;
        for credential in &scan.found {
            let scrubbed = EventRow::scrub(&mut conn, self.id, &credential.value, REDACTED)
                .await
                .infra("hiding a credential in stored events")?;
            if scrubbed > 0 {
                tracing::warn!(
                    credential = %credential.name,
                    events = scrubbed,
                    "a script printed a credential; hidden in the stored events"
                );
            }
        }
        Ok(())
    }

    async fn discover_services(
        &self,
        target: &AnyTarget,
    ) -> Result<Vec<domain::container::ServiceInfo>, Failure> {
        let opts = ExecOptions::with_timeout(Duration::from_secs(60));
        let units = Command::new("systemctl").args([
            "list-units",
            "--type=service",
            "--state=running",
            "--no-legend",
            "--plain",
            "--no-pager",
        ]);
        let units = target
            .exec_capture(&units, &opts)
            .await
            .and_then(|o| o.checked())
            .map_err(|e| {
                Failure::failed(format!("Listing the container's services failed: {e}"))
            })?;
        let sockets = match target
            .exec_capture(&Command::new("ss").arg("-tlnp"), &opts)
            .await
            .and_then(|o| o.checked())
        {
            Ok(out) => services::listeners(&out.stdout_lossy()),
            Err(e) => {
                self.log(&format!(
                    "Could not list listening ports ({e}); services are shown without ports."
                ))
                .await?;
                Vec::new()
            }
        };
        Ok(services::discover(
            &services::running_units(&units.stdout_lossy()),
            &sockets,
            self.ip.as_deref(),
        ))
    }
}

/// What the credentials directory holds: the credentials, and notes on files that are not.
struct CredentialScan {
    found: Vec<Credential>,
    skipped: Vec<String>,
}

/// Each file in the credentials directory: its name and its text, trailing newline removed.
async fn scan_credentials(target: &AnyTarget) -> Result<CredentialScan, Failure> {
    let dir = RemotePath::new(cm::CREDENTIALS_DIR).expect("a valid path");
    let entries = match target.list_dir(&dir).await {
        Ok(entries) => entries,
        Err(RemoteError::NotFound { .. }) => Vec::new(),
        Err(e) => {
            return Err(Failure::failed(format!(
                "Reading the credentials failed: {e}"
            )));
        }
    };
    let mut scan = CredentialScan {
        found: Vec::new(),
        skipped: Vec::new(),
    };
    for entry in entries.into_iter().filter(|e| e.kind == EntryKind::File) {
        if scan.found.len() == CREDENTIAL_COUNT {
            scan.skipped.push(format!(
                "Only the first {CREDENTIAL_COUNT} credentials are kept."
            ));
            break;
        }
        let Ok(name) = safe_file_name(&entry.name, 255) else {
            scan.skipped.push(format!(
                "Skipped credential file {:?}: use letters, digits, '.', '_' and '-' in its name.",
                entry.name
            ));
            continue;
        };
        let path = dir
            .join(&name)
            .map_err(|e| Failure::failed(e.to_string()))?;
        let bytes = target
            .read_file(&path, CREDENTIAL_LIMIT)
            .await
            .map_err(|e| Failure::failed(format!("Reading credential {name} failed: {e}")))?;
        let Ok(text) = String::from_utf8(bytes) else {
            scan.skipped
                .push(format!("Skipped credential {name}: it is not text."));
            continue;
        };
        let value = text.trim_end_matches(['\n', '\r']).to_owned();
        if value.is_empty() {
            scan.skipped
                .push(format!("Skipped credential {name}: it is empty."));
            continue;
        }
        scan.found.push(Credential { name, value });
    }
    Ok(scan)
}
