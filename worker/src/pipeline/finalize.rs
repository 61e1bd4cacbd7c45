//! Phase 5, Finalize (90–100 %): read the credentials the scripts left, store them sealed,
//! discover the services, store them. The `complete` event and lifecycle `ready` follow in
//! [`Job::run`](super::job::Job).

use std::time::Duration;

use backend::models::{CredentialRow, ServiceRow};
use domain::container::{Credential, Phase};
use domain::spec::Ipv4Setup;
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
        if self.ip.is_none() && self.spec.ipv4 == Ipv4Setup::Dhcp {
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

    /// Each file in the credentials directory: its name and its text, trailing newline removed.
    /// Every value is registered for redaction before anything else happens with it.
    async fn read_credentials(&mut self, target: &AnyTarget) -> Result<Vec<Credential>, Failure> {
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
        let mut credentials = Vec::new();
        for entry in entries.into_iter().filter(|e| e.kind == EntryKind::File) {
            if credentials.len() == CREDENTIAL_COUNT {
                self.log(&format!(
                    "Only the first {CREDENTIAL_COUNT} credentials are kept."
                ))
                .await?;
                break;
            }
            let Ok(name) = safe_file_name(&entry.name, 255) else {
                self.log(&format!(
                    "Skipped credential file {:?}: use letters, digits, '.', '_' and '-' in its name.",
                    entry.name
                ))
                .await?;
                continue;
            };
            let path = dir
                .join(&name)
                .map_err(|e| Failure::failed(e.to_string()))?;
            let bytes = match target.read_file(&path, CREDENTIAL_LIMIT).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    return Err(Failure::failed(format!(
                        "Reading credential {name} failed: {e}"
                    )));
                }
            };
            let Ok(text) = String::from_utf8(bytes) else {
                self.log(&format!("Skipped credential {name}: it is not text."))
                    .await?;
                continue;
            };
            let value = text.trim_end_matches(['\n', '\r']).to_owned();
            if value.is_empty() {
                self.log(&format!("Skipped credential {name}: it is empty."))
                    .await?;
                continue;
            }
            self.redact(&value);
            credentials.push(Credential { name, value });
        }
        Ok(credentials)
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
