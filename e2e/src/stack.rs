//! The whole product on loopback for the end-to-end suite: the simulator as the Proxmox node,
//! the real server (the app's router) on a free port, and the real worker binary as a child
//! process that the suite can kill and start again. PostgreSQL, Redis and ChromeDriver are the
//! test command's.

use app::ssr::ServerContext;
use backend::crypto::SecretBox;
use backend::queue::{Queue, QueueKeys};
use pvesim::{SimConfig, SimHandle, Simulator};
use remote_shell::DeployKey;
use std::path::{Path, PathBuf};
use std::process::Stdio;

pub const TOKEN_ID: &str = "root@pam!e2e";
pub const TOKEN_SECRET: &str = "4f7c2a9e-e2e0-4e2e-9e2e-0e2e2e2e2e2e";
pub const PASSWORD: &str = "correct horse battery";

pub struct Stack {
    pub sim: SimHandle,
    pub url: String,
    pub ctx: ServerContext,
    pub database_url: String,
    dir: tempfile::TempDir,
    namespace: String,
    worker: Option<tokio::process::Child>,
    worker_starts: u32,
}

impl Stack {
    pub async fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let deploy_key = DeployKey::load_or_create(&dir.path().join("deploy_ed25519")).unwrap();
        let sim = Simulator::start(
            SimConfig::builder()
                .token(TOKEN_ID, TOKEN_SECRET)
                .node_ssh_authorized_key(deploy_key.public_openssh())
                .build(),
        )
        .await
        .expect("simulator starts (is bubblewrap installed?)");
        let templates = dir.path().join("templates");
        copy_dir(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../templates"),
            &templates,
        );
        write_test_templates(&templates);

        let database_url = testkit::migrated_database().await;
        let redis = backend::redis::connect(&testkit::redis_url())
            .await
            .unwrap();
        let namespace = testkit::unique("e2e");
        let ctx = ServerContext {
            db: backend::db::pool(&database_url, 8).unwrap(),
            redis: redis.clone(),
            queue: Queue::with_keys(redis, QueueKeys::namespaced(&namespace)),
            progress: backend::events::ProgressHub::connect(&testkit::redis_url())
                .await
                .unwrap(),
            live: Default::default(),
            secrets: SecretBox::load_or_create(&dir.path().join("secret.key")).unwrap(),
            session_lifetime: chrono::Duration::hours(1),
            secure_cookies: false,
            templates_dir: templates,
            trusted_proxies: std::sync::Arc::from([std::net::IpAddr::from([127, 0, 0, 1])]),
        };
        let url = server::spawn_on_loopback(ctx.clone(), &testkit::site_root())
            .await
            .unwrap();
        let mut stack = Stack {
            sim,
            url,
            ctx,
            database_url,
            dir,
            namespace,
            worker: None,
            worker_starts: 0,
        };
        stack.start_worker();
        stack
    }

    /// Starts the worker binary (its output goes to the test output folder).
    pub fn start_worker(&mut self) {
        assert!(self.worker.is_none(), "a worker is running already");
        self.worker_starts += 1;
        let log = std::fs::File::create(
            testkit::output_dir().join(format!("e2e-worker-{}.log", self.worker_starts)),
        )
        .unwrap();
        let child = tokio::process::Command::new(crate::worker_binary())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database_url)
            .env("REDIS_URL", testkit::redis_url())
            .env("INFRAHAUS_SECRET_KEY_FILE", self.path("secret.key"))
            .env(
                "INFRAHAUS_WORKER_DEPLOY_KEY_FILE",
                self.path("deploy_ed25519"),
            )
            .env("INFRAHAUS_WORKER_CONCURRENCY", "2")
            .env("INFRAHAUS_WORKER_LEASE_SECS", "3")
            .env(
                "INFRAHAUS_CONTAINER_SSH_PORT",
                self.sim.ssh_port.to_string(),
            )
            .env("INFRAHAUS_QUEUE_NAMESPACE", &self.namespace)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start the worker binary");
        self.worker = Some(child);
    }

    /// Kills the worker with SIGKILL, as a crash or power loss would.
    pub async fn kill_worker(&mut self) {
        let mut child = self.worker.take().expect("a running worker");
        child.start_kill().unwrap();
        let status = child.wait().await.unwrap();
        assert!(!status.success(), "the worker was killed, not stopped");
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A user to log in as.
    pub async fn user(&self) -> String {
        let name = testkit::unique("e2e");
        let mut conn = self.ctx.db.get().await.unwrap();
        backend::accounts::create_user(&mut conn, &name, PASSWORD)
            .await
            .unwrap();
        name
    }

    /// The node the suite registered through Settings, and a client for it, to check what
    /// exists on the (simulated) Proxmox node.
    pub async fn pve(&self, node_name: &str) -> pve_client::PveClient {
        let mut conn = self.ctx.db.get().await.unwrap();
        let node = backend::models::NodeRow::find_by_name(&mut conn, node_name)
            .await
            .unwrap()
            .expect("the node added in Settings");
        backend::proxmox::client_for_row(&node, &self.ctx.secrets).unwrap()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Two templates only this suite uses, next to the shipped examples: one whose script fails
/// with exit code 3 the first time, and one slow enough to reload and kill the worker mid-run.
fn write_test_templates(templates: &Path) {
    let write = |path: &str, text: &str| {
        let path = templates.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "e2e-flaky/template.conf",
        "TEMPLATE_APP=\"e2e-flaky\"\nTEMPLATE_DESCRIPTION=\"Its setup script fails once.\"\n\
         TEMPLATE_TAGS=\"test\"\nTEMPLATE_OS=\"debian-12-standard\"\n",
    );
    write(
        "e2e-flaky/container-configs/scripts/10-flaky.sh",
        "#!/bin/sh\nif [ ! -f /root/.flaky-ran ]; then\n  touch /root/.flaky-ran\n  \
         echo 'first run: giving up' >&2\n  exit 3\nfi\necho 'second run: fine'\n",
    );
    write(
        "e2e-slow/template.conf",
        "TEMPLATE_APP=\"e2e-slow\"\nTEMPLATE_DESCRIPTION=\"Prints 60 lines over 12 seconds.\"\n\
         TEMPLATE_TAGS=\"test\"\nTEMPLATE_OS=\"debian-12-standard\"\n",
    );
    write(
        "e2e-slow/container-configs/scripts/10-slow.sh",
        "#!/bin/sh\ni=1\nwhile [ $i -le 60 ]; do\n  echo \"slow line $i\"\n  \
         if [ $((i % 10)) -eq 0 ]; then echo \"warning $i\" >&2; fi\n  sleep 0.2\n  \
         i=$((i + 1))\ndone\n",
    );
}
