//! The world a pipeline test runs in: a Proxmox simulator, a migrated database of its own, a
//! queue namespace of its own on the test Redis, the node registered, and a deploy key.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use backend::crypto::{Purpose, SecretBox};
use backend::db::DbPool;
use backend::events::SinkConfig;
use backend::models::event::EventRow;
use backend::models::{ContainerRow, NewNode, NodeRow};
use backend::queue::{Job, Queue, QueueKeys, Reader};
use backend::redis::RedisClient;
use domain::container::Phase;
use domain::event::{EventKind, ProgressEvent};
use domain::spec::{ContainerDraft, Ipv4Setup};
use domain::template::{FilePolicy, Package, PackageManager, Script, TemplateFile};
use domain::{ContainerId, NodeId};
use pvesim::{FaultsPatch, SimConfig, SimHandle, Simulator};
use remote_shell::{DeployKey, RetryPolicy};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use worker::{Pipeline, PipelineSettings, RunReport, Runner, RunnerConfig};

pub const TOKEN_ID: &str = "root@pam!ci";
pub const TOKEN_SECRET: &str = "5f0c2a0e-7c39-4e43-9d67-1b3c6f1f0a11";
pub const DEBIAN: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
pub const ROOT_PASSWORD: &str = "Root-Pw-7f3a9c";
/// What the credential script writes.
pub const CREDENTIAL_VALUE: &str = "Cred-Value-91d2e8";

/// How the world is set up.
pub struct WorldOptions {
    /// The node's sshd accepts the worker's deploy key (the `pct` fallback works).
    pub node_ssh_authorized: bool,
}

impl Default for WorldOptions {
    fn default() -> Self {
        WorldOptions {
            node_ssh_authorized: true,
        }
    }
}

impl WorldOptions {
    /// The node's sshd refuses the worker's node key.
    pub fn without_node_ssh() -> Self {
        WorldOptions {
            node_ssh_authorized: false,
        }
    }
}

pub struct World {
    pub sim: SimHandle,
    pub database_url: String,
    pub db: DbPool,
    pub redis: RedisClient,
    pub secrets: SecretBox,
    pub dir: tempfile::TempDir,
    pub deploy_key: DeployKey,
    pub namespace: String,
    pub queue: Queue,
    pub node_id: NodeId,
}

/// A runner started in this process.
pub struct Running {
    pub handle: JoinHandle<RunReport>,
    pub shutdown: CancellationToken,
}

impl Running {
    /// Asks it to stop and waits for its report.
    pub async fn stop(self) -> RunReport {
        self.shutdown.cancel();
        self.handle.await.expect("the runner does not panic")
    }
}

impl World {
    pub async fn start(options: WorldOptions) -> World {
        let dir = tempfile::tempdir().unwrap();
        let deploy_key = DeployKey::load_or_create(&dir.path().join("deploy_ed25519")).unwrap();
        let secrets = SecretBox::load_or_create(&dir.path().join("secret.key")).unwrap();
        let mut builder = SimConfig::builder()
            .user("root@pam", "rootpass")
            .token(TOKEN_ID, TOKEN_SECRET);
        if options.node_ssh_authorized {
            builder = builder.node_ssh_authorized_key(deploy_key.public_openssh());
        }
        let sim = Simulator::start(builder.build())
            .await
            .expect("simulator starts (is bubblewrap installed? apt-get install bubblewrap)");
        let database_url = testkit::migrated_database().await;
        let db = backend::db::pool(&database_url, 8).unwrap();
        let redis = backend::redis::connect(&testkit::redis_url())
            .await
            .unwrap();
        let namespace = testkit::unique("wq");
        let queue = Queue::with_keys(redis.clone(), QueueKeys::namespaced(&namespace));
        queue.ensure_group().await.unwrap();
        let node = NewNode {
            name: "pve".into(),
            host: "127.0.0.1".into(),
            port: i32::from(sim.api_addr.port()),
            token_id: TOKEN_ID.into(),
            token_secret_enc: Some(secrets.seal_str(Purpose::NodeTokenSecret, TOKEN_SECRET)),
            tls_fingerprint: Some(sim.fingerprint.clone()),
            ssh_port: i32::from(sim.node_ssh_addr.expect("node ssh").port()),
        };
        let node_id = {
            let mut conn = db.get().await.unwrap();
            NodeRow::insert(&mut conn, &node).await.unwrap().id
        };
        World {
            sim,
            database_url,
            db,
            redis,
            secrets,
            dir,
            deploy_key,
            namespace,
            queue,
            node_id,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Fast settings for the simulator.
    pub fn settings(&self) -> PipelineSettings {
        PipelineSettings {
            container_ssh_port: self.sim.ssh_port,
            ssh_retry: RetryPolicy::from_delays(vec![
                Duration::from_millis(200),
                Duration::from_millis(400),
                Duration::from_millis(800),
            ]),
            node_ssh_retry: RetryPolicy::from_delays(vec![Duration::from_millis(200)]),
            ssh_connect_timeout: Duration::from_secs(10),
            task_poll: Duration::from_millis(100),
            task_timeout: Duration::from_secs(60),
            dhcp_poll: Duration::from_millis(100),
            dhcp_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(120),
            sink: SinkConfig {
                flush_interval: Duration::from_millis(50),
                ..SinkConfig::default()
            },
        }
    }

    /// Starts a runner (its own consumer name) with the pipeline, whose lease lives `lease_ttl`
    /// unless renewed.
    pub async fn runner(&self, settings: PipelineSettings, lease_ttl: Duration) -> Running {
        let dedicated = backend::redis::connect(&testkit::redis_url())
            .await
            .unwrap();
        let reader = Reader::new(self.queue.clone(), dedicated);
        let pipeline = Pipeline::new(
            self.db.clone(),
            self.redis.clone(),
            self.secrets.clone(),
            self.deploy_key.clone(),
            settings,
        );
        let config = RunnerConfig::new(2)
            .with_lease_ttl(lease_ttl)
            .with_retry_after(Duration::from_secs(1))
            .with_shutdown_deadline(Duration::from_secs(30));
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(Runner::new(reader, pipeline, config).run(shutdown.clone()));
        Running { handle, shutdown }
    }

    /// A runner with [`settings`](Self::settings) and a 30 s lease.
    pub async fn default_runner(&self) -> Running {
        self.runner(self.settings(), Duration::from_secs(30)).await
    }

    /// Waits until the container is no longer `creating`; returns its row and transcript.
    pub async fn finished(&self, id: ContainerId) -> (ContainerRow, String) {
        let row = self.wait_finished(id).await;
        (row, self.transcript(id).await)
    }

    /// Inserts the container row (lifecycle `creating`, root password sealed) for `draft`,
    /// which must pass the create call's checks, with its creation run, as the create call does.
    pub async fn insert(&self, draft: &ContainerDraft) -> ContainerId {
        let spec = testkit::fixtures::checked(draft);
        let sealed = self.secrets.seal_str(Purpose::RootPassword, ROOT_PASSWORD);
        let new = testkit::fixtures::new_container(&spec, Some(sealed));
        let mut conn = self.db.get().await.unwrap();
        ContainerRow::insert(&mut conn, &new).await.unwrap();
        backend::models::RunRow::insert_creation(&mut conn, new.id, None)
            .await
            .unwrap();
        new.id
    }

    pub async fn enqueue(&self, id: ContainerId) {
        self.queue.enqueue(&Job { container_id: id }).await.unwrap();
    }

    /// Inserts and queues a container.
    pub async fn create(&self, spec: &ContainerDraft) -> ContainerId {
        let id = self.insert(spec).await;
        self.enqueue(id).await;
        id
    }

    pub async fn row(&self, id: ContainerId) -> ContainerRow {
        let mut conn = self.db.get().await.unwrap();
        ContainerRow::find(&mut conn, id).await.unwrap()
    }

    pub async fn events(&self, id: ContainerId) -> Vec<ProgressEvent> {
        let mut conn = self.db.get().await.unwrap();
        EventRow::list_after(&mut conn, id, 0, 1_000_000)
            .await
            .unwrap()
    }

    /// The events as text, for assertion messages.
    pub async fn transcript(&self, id: ContainerId) -> String {
        self.events(id)
            .await
            .iter()
            .map(|e| {
                format!(
                    "{:>3} {:>3}% {} {}: {}",
                    e.seq, e.percent, e.phase, e.kind, e.message
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until the container is no longer `creating` or `updating`.
    pub async fn wait_finished(&self, id: ContainerId) -> ContainerRow {
        self.wait_until(id, |row, _| !row.lifecycle.is_running_a_job())
            .await
    }

    /// Waits until `done` holds for the row and its events (bounded so a hang fails the test).
    pub async fn wait_until(
        &self,
        id: ContainerId,
        done: impl Fn(&ContainerRow, &[ProgressEvent]) -> bool,
    ) -> ContainerRow {
        let limit = Instant::now() + Duration::from_secs(180);
        loop {
            let row = self.row(id).await;
            let events = self.events(id).await;
            if done(&row, &events) {
                return row;
            }
            assert!(
                Instant::now() < limit,
                "gave up waiting; lifecycle {}, events:\n{}",
                row.lifecycle,
                self.transcript(id).await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn pve(&self) -> pve_client::PveClient {
        let mut conn = self.db.get().await.unwrap();
        let node = NodeRow::find(&mut conn, self.node_id).await.unwrap();
        backend::proxmox::client_for_row(&node, &self.secrets).unwrap()
    }

    /// How many create tasks the node ran for `vmid`.
    pub async fn create_tasks(&self, vmid: u32) -> usize {
        self.pve()
            .await
            .node_tasks("pve")
            .await
            .unwrap()
            .iter()
            .filter(|t| t.task_type == "vzcreate" && t.id.as_deref() == Some(&vmid.to_string()))
            .count()
    }

    /// How many containers with `vmid` the node has.
    pub async fn containers_with(&self, vmid: u32) -> usize {
        self.pve()
            .await
            .lxc_list("pve")
            .await
            .unwrap()
            .iter()
            .filter(|c| c.vmid == vmid)
            .count()
    }

    pub fn fail_next(&self, task_type: &str, message: &str) {
        self.sim.update_faults(FaultsPatch {
            fail_next: [(task_type.to_owned(), message.to_owned())].into(),
            ..FaultsPatch::default()
        });
    }

    /// The container's own SSH key, opened from its row.
    pub async fn container_key(&self, id: ContainerId) -> DeployKey {
        let sealed = self
            .row(id)
            .await
            .ssh_key_enc
            .expect("a stored container key");
        let pem = self
            .secrets
            .open_str(Purpose::ContainerSshKey, &sealed)
            .unwrap();
        DeployKey::from_openssh(&pem).unwrap()
    }

    /// Checks the SSH identities of a finished container: its `authorized_keys` holds its own
    /// key and not the node key; its private key is stored sealed and appears in no event.
    pub async fn assert_own_ssh_key(&self, id: ContainerId, vmid: u32) {
        let authorized = self.read(vmid, "/root/.ssh/authorized_keys").unwrap();
        assert!(
            !authorized.lines().any(|l| self.deploy_key.is_in_line(l)),
            "the node key is not in the container: {authorized}"
        );
        let own = self.container_key(id).await;
        assert!(
            authorized.lines().any(|l| own.is_in_line(l)),
            "the container's own key is: {authorized}"
        );
        let sealed = self.row(id).await.ssh_key_enc.unwrap();
        assert!(
            !String::from_utf8_lossy(&sealed).contains("OPENSSH PRIVATE KEY"),
            "the private key is sealed"
        );
        let transcript = self.transcript(id).await;
        let pem = own.with_openssh_private(str::to_owned).unwrap();
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            assert!(
                !transcript.contains(line),
                "a private key line in the events"
            );
        }
        assert!(!transcript.contains("PRIVATE KEY"), "{transcript}");
    }

    /// A file in the container's root, as text.
    pub fn read(&self, vmid: u32, path: &str) -> Option<String> {
        std::fs::read_to_string(
            self.sim
                .container_root(vmid)
                .join(path.trim_start_matches('/')),
        )
        .ok()
    }
}

/// A static loopback address the simulator serves the container's sshd on, away from its pool
/// (127.64.0.0/10).
pub fn static_cidr() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    format!(
        "127.{}.{}.{}/24",
        200 + bytes[0] % 50,
        bytes[1],
        2 + bytes[2] % 250
    )
}

pub fn script(name: &str, content: &str) -> Script {
    Script {
        name: name.into(),
        description: String::new(),
        content: content.into(),
        enabled: true,
    }
}

/// A spec without packages, files or scripts.
pub fn bare_spec(node_id: NodeId, vmid: u32, ipv4: Ipv4Setup) -> ContainerDraft {
    ContainerDraft {
        node_id,
        template_id: None,
        template_name: Some("test".into()),
        hostname: format!("ct-{vmid}"),
        vmid,
        storage: "local-lvm".into(),
        os_template: DEBIAN.into(),
        bridge: "vmbr0".into(),
        ipv4,
        tags: vec!["test".into()],
        ..ContainerDraft::default()
    }
}

/// A spec with files under every policy, packages from every manager (the custom one installed
/// by a template file) and several scripts (one disabled), like the dev-toolbox and web-server
/// templates together.
pub fn full_spec(node_id: NodeId, vmid: u32, ipv4: Ipv4Setup) -> ContainerDraft {
    let file = |name: &str, dir: &str, policy, content: &str| TemplateFile {
        name: name.into(),
        target_dir: dir.into(),
        policy,
        content: content.into(),
    };
    let package = |name: &str, manager, version: Option<&str>| Package {
        name: name.into(),
        manager,
        version: version.map(Into::into),
    };
    ContainerDraft {
        template_name: Some("dev-web".into()),
        hostname: "web-1".into(),
        files: vec![
            file(
                "index.html",
                "/var/www/html",
                FilePolicy::Replace,
                "<h1>It works</h1>\n",
            ),
            file("hostname", "/etc", FilePolicy::Default, "not-this-name\n"),
            file(
                ".gitconfig",
                "/root",
                FilePolicy::Default,
                "[user]\n\tname = Dev\n",
            ),
            file(
                "resolv.conf",
                "/etc",
                FilePolicy::Backup,
                "# Managed by infrahaus\nnameserver 1.1.1.1\n",
            ),
            file(
                "install-custom.sh",
                "/etc/config-manager",
                FilePolicy::Replace,
                "#!/bin/sh\nset -eu\nmkdir -p /opt/custom\necho \"${2:-latest}\" > \"/opt/custom/$1\"\necho \"installed $1\"\n",
            ),
        ],
        packages: vec![
            package("nginx", PackageManager::Apt, None),
            package("httpie", PackageManager::Pip, None),
            package("git", PackageManager::Apt, None),
            package("black", PackageManager::Pip, Some("24.8.0")),
            package("left-pad", PackageManager::Npm, Some("1.3.0")),
            package("mytool", PackageManager::Custom, Some("2")),
        ],
        scripts: vec![
            script(
                "10-web.sh",
                "#!/bin/sh\n# Enable nginx.\nset -eu\nsystemctl enable --now nginx\necho \"nginx is $(systemctl is-active nginx)\"\necho 'a warning on stderr' >&2\n",
            ),
            script(
                "20-credential.sh",
                &format!(
                    "#!/bin/sh\nset -eu\numask 077\nmkdir -p /etc/infrahaus/credentials\nprintf '%s\\n' '{CREDENTIAL_VALUE}' > /etc/infrahaus/credentials/admin-password\necho 'credential written: {CREDENTIAL_VALUE}'\n"
                ),
            ),
            script(
                "30-report.sh",
                &format!(
                    "echo \"root password would be {ROOT_PASSWORD}\"\necho \"admin password is $(cat /etc/infrahaus/credentials/admin-password)\"\nls /etc/config-manager\n"
                ),
            ),
            Script {
                enabled: false,
                ..script("40-disabled.sh", "#!/bin/sh\nexit 9\n")
            },
        ],
        ..bare_spec(node_id, vmid, ipv4)
    }
}

/// The step events' phases, in order, without repeats.
pub fn phases(events: &[ProgressEvent]) -> Vec<Phase> {
    let mut out: Vec<Phase> = Vec::new();
    for e in events.iter().filter(|e| e.kind == EventKind::Step) {
        if out.last() != Some(&e.phase) {
            out.push(e.phase);
        }
    }
    out
}
