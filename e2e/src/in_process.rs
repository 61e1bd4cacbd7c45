//! The real worker (runner, pipeline and service checks) in this process, against the Proxmox
//! simulator, on a [`TestApp`]'s database, Redis and queue.

use backend::crypto::Purpose;
use backend::models::{NewNode, NodeRow};
use domain::spec::ContainerDraft;
use domain::{ContainerId, NodeId};
use std::time::Duration;
use testkit::server::TestApp;

const SIM_TOKEN_ID: &str = "root@pam!ci";
const SIM_TOKEN_SECRET: &str = "5f0c2a0e-7c39-4e43-9d67-1b3c6f1f0a11";

/// The worker's runner and pipeline on a task of this process; stopped when dropped.
pub struct RealWorker {
    pub sim: pvesim::SimHandle,
    /// The simulator's row in the test app's database.
    pub node: NodeId,
    shutdown: tokio_util::sync::CancellationToken,
    _dir: tempfile::TempDir,
}

impl RealWorker {
    pub async fn start(app: &TestApp) -> RealWorker {
        RealWorker::start_with_health_refresh(app, Duration::from_secs(180)).await
    }

    /// [`RealWorker::start`], with the service checks' refresh period (how often a container
    /// page left open asks for a new check).
    pub async fn start_with_health_refresh(app: &TestApp, refresh: Duration) -> RealWorker {
        use remote_shell::{DeployKey, RetryPolicy};
        use worker::{Pipeline, PipelineSettings, Runner, RunnerConfig};
        let dir = tempfile::tempdir().unwrap();
        let deploy_key = DeployKey::load_or_create(&dir.path().join("deploy_ed25519")).unwrap();
        let sim = pvesim::Simulator::start(
            pvesim::SimConfig::builder()
                .token(SIM_TOKEN_ID, SIM_TOKEN_SECRET)
                .node_ssh_authorized_key(deploy_key.public_openssh())
                .build(),
        )
        .await
        .expect("the simulator starts (is bubblewrap installed?)");
        let node = {
            let mut conn = app.ctx.db.get().await.unwrap();
            NodeRow::insert(
                &mut conn,
                &NewNode {
                    name: "pve".into(),
                    host: "127.0.0.1".into(),
                    port: i32::from(sim.api_addr.port()),
                    token_id: SIM_TOKEN_ID.into(),
                    token_secret_enc: Some(
                        app.ctx
                            .secrets
                            .seal_str(Purpose::NodeTokenSecret, SIM_TOKEN_SECRET),
                    ),
                    tls_fingerprint: Some(sim.fingerprint.clone()),
                    ssh_port: i32::from(sim.node_ssh_addr.expect("node ssh").port()),
                },
            )
            .await
            .unwrap()
            .id
        };
        let settings = PipelineSettings {
            container_ssh_port: sim.ssh_port,
            ssh_retry: RetryPolicy::from_delays(vec![
                Duration::from_millis(200),
                Duration::from_millis(400),
                Duration::from_millis(800),
            ]),
            node_ssh_retry: RetryPolicy::from_delays(vec![Duration::from_millis(200)]),
            task_poll: Duration::from_millis(100),
            dhcp_poll: Duration::from_millis(100),
            ..PipelineSettings::default()
        };
        let shutdown = tokio_util::sync::CancellationToken::new();
        let checker = worker::health::HealthChecker::new(
            app.ctx.db.clone(),
            app.ctx.secrets.clone(),
            deploy_key.clone(),
            worker::health::HealthSettings {
                refresh,
                container_ssh_port: sim.ssh_port,
                ..worker::health::HealthSettings::default()
            },
        );
        tokio::spawn(worker::health::serve(
            checker,
            backend::health::HealthChecks::new(
                app.ctx.redis.clone(),
                app.ctx.queue.keys().namespace(),
            ),
            backend::redis::connect(&testkit::redis_url())
                .await
                .unwrap(),
            shutdown.clone(),
        ));
        let pipeline = Pipeline::new(
            app.ctx.db.clone(),
            app.ctx.redis.clone(),
            app.ctx.secrets.clone(),
            deploy_key,
            settings,
        );
        let dedicated = backend::redis::connect(&testkit::redis_url())
            .await
            .unwrap();
        let reader = backend::queue::Reader::new(app.ctx.queue.clone(), dedicated);
        tokio::spawn(Runner::new(reader, pipeline, RunnerConfig::new(1)).run(shutdown.clone()));
        RealWorker {
            sim,
            node,
            shutdown,
            _dir: dir,
        }
    }

    /// Stores and queues a container the way the create call does (its creation run
    /// included).
    pub async fn create(&self, app: &TestApp, draft: &ContainerDraft) -> ContainerId {
        let spec = testkit::fixtures::checked(draft);
        let sealed = app
            .ctx
            .secrets
            .seal_str(Purpose::RootPassword, "Root-Pw-5521");
        let new = testkit::fixtures::new_container(&spec, Some(sealed));
        let mut conn = app.ctx.db.get().await.unwrap();
        backend::creation::store_and_enqueue(&mut conn, &app.ctx.queue, &new, uuid::Uuid::new_v4())
            .await
            .expect("stored and queued")
            .id()
    }
}

impl Drop for RealWorker {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
