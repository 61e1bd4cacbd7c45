//! Phase 1, Create (0–20 %): `POST /nodes/{node}/lxc` with the job's configuration, the
//! container's own public key and the job's tag, unless a container with that tag already
//! exists.

use std::time::Instant;

use backend::crypto::Purpose;
use backend::models::ContainerRow;
use domain::container::Phase;
use domain::spec::Ipv4Config;
use pve_client::lxc::{CreateCt, CtFeatures, NetConfig, RootFs};
use remote_shell::DeployKey;

use super::failure::{Failure, InfraExt};
use super::job::{Job, job_tag};

/// What the node has under the job's VMID.
enum Found {
    Nothing,
    /// Created by this job; `creating` while the create task still holds its lock.
    Ours {
        creating: bool,
    },
    /// Another guest uses the VMID.
    Foreign,
}

impl Job<'_> {
    pub(super) async fn create(&mut self) -> Result<(), Failure> {
        let (from, _) = Phase::Create.percent_range();
        self.step(
            Phase::Create,
            from,
            &format!(
                "Creating container {} ({}) on node {}",
                self.vmid(),
                self.spec.hostname,
                self.pve_node()
            ),
        )
        .await?;
        let deadline = Instant::now() + self.deps.settings.task_timeout;
        loop {
            match self.find().await? {
                Found::Nothing => {
                    self.create_new().await?;
                    break;
                }
                Found::Ours { creating: false } => {
                    self.log("The container already exists from an earlier attempt; it is not created again.")
                        .await?;
                    break;
                }
                Found::Ours { creating: true } if Instant::now() < deadline => {
                    tokio::time::sleep(self.deps.settings.task_poll).await;
                }
                Found::Ours { creating: true } => {
                    return Err(Failure::failed(format!(
                        "Container {} is still locked by its create task on node {}. Check the \
                         node's task log, then press Retry.",
                        self.vmid(),
                        self.pve_node()
                    )));
                }
                Found::Foreign => {
                    return Err(Failure::failed(format!(
                        "ID {} is already used on node {} by a guest infrahaus did not create. \
                         Delete this container entry and create it again with a free ID.",
                        self.vmid(),
                        self.pve_node()
                    )));
                }
            }
        }
        // The container exists: the worker reaches it with the container's key from now on.
        let mut conn = self.conn().await?;
        ContainerRow::erase_root_password(&mut conn, self.id)
            .await
            .infra("erasing the root password")?;
        Ok(())
    }

    async fn find(&self) -> Result<Found, Failure> {
        let list = self.pve().lxc_list(self.pve_node()).await.map_err(|e| {
            Failure::failed(format!(
                "Cannot list the containers on node {}: {e}",
                self.pve_node()
            ))
        })?;
        let Some(ct) = list.iter().find(|c| c.vmid == self.vmid()) else {
            return Ok(Found::Nothing);
        };
        let tag = job_tag(self.id);
        let ours = ct
            .tags
            .as_deref()
            .unwrap_or_default()
            .split([';', ',', ' '])
            .any(|t| t == tag);
        Ok(if ours {
            Found::Ours {
                creating: ct.lock.as_deref() == Some("create"),
            }
        } else {
            Found::Foreign
        })
    }

    async fn create_new(&mut self) -> Result<(), Failure> {
        let Some(sealed) = self.row.root_password_enc.clone() else {
            return Err(Failure::failed(
                "The container does not exist on the node and its root password is no longer \
                 stored (it is erased once used). Delete this container entry and create it again.",
            ));
        };
        let password = self
            .deps
            .secrets
            .open_str(Purpose::RootPassword, &sealed)
            .map_err(|e| {
                Failure::failed(format!(
                    "The stored root password cannot be read ({e}). Was the secret key file \
                     replaced? Delete this container entry and create it again."
                ))
            })?;
        self.redact(&password);
        let key = self.ensure_container_key().await?;
        let params = self.create_params(password, &key);
        let upid = self
            .pve()
            .lxc_create(self.pve_node(), &params)
            .await
            .map_err(|e| {
                Failure::failed(format!("Proxmox refused to create the container: {e}"))
            })?;
        drop(params);
        self.log(&format!("Proxmox task {upid}")).await?;
        self.wait_task(&upid, "Creating the container").await
    }

    /// The create call's parameters from the spec: `key` is the container's own key (never
    /// the node key), next to the user's key from the spec.
    fn create_params(&self, password: String, key: &DeployKey) -> CreateCt {
        let spec = &self.spec;
        let mut keys = vec![key.public_openssh()];
        keys.extend(spec.ssh_public_key.iter().map(|k| k.trim().to_owned()));
        let net0 = match spec.ipv4 {
            Ipv4Config::Dhcp => NetConfig::dhcp(&spec.bridge),
            Ipv4Config::Static { cidr, gateway } => NetConfig::static_ip(
                &spec.bridge,
                cidr.to_string(),
                gateway.map(|g| g.to_string()),
            ),
        };
        let mut tags = spec.tags.clone();
        tags.push(job_tag(self.id));
        CreateCt {
            hostname: Some(spec.hostname.to_string()),
            password: Some(password),
            ssh_public_keys: Some(keys.join("\n")),
            cores: Some(spec.cores),
            memory_mib: Some(spec.memory_mib),
            swap_mib: Some(spec.swap_mib),
            rootfs: Some(RootFs {
                storage: spec.storage.clone(),
                size_gib: spec.disk_gib,
            }),
            net0: Some(net0),
            nameserver: spec.nameserver.map(|n| n.to_string()),
            features: CtFeatures {
                nesting: spec.nesting,
                keyctl: spec.keyctl,
                fuse: spec.fuse,
            },
            unprivileged: spec.unprivileged,
            tags,
            description: Some(format!("Created by infrahaus (container {}).", self.id)),
            ..CreateCt::new(spec.vmid.get(), spec.os_template.clone())
        }
    }
}
