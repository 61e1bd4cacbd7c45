//! `wait_for_task`: success, warnings, failure with log lines, timeout, incremental log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pve_client::tasks::TaskLogLine;
use pve_client::{PveError, TaskOutcome, Upid};
use serde_json::json;

use crate::common::{MockPve, Recorded, Reply, token};

const UPID: &str = "UPID:pve2:0002A1B3:0159C2D1:67A3F0C2:vzcreate:100:infra@pve!ci:";

/// A task whose log grows with each status poll.
struct ScriptedTask {
    /// Log lines visible after the n-th status poll (index n-1); the last entry repeats.
    visible: Vec<usize>,
    lines: Vec<&'static str>,
    /// Status poll from which the task is stopped (`None`: never).
    stops_at: Option<usize>,
    exit: &'static str,
    polls: AtomicUsize,
}

impl ScriptedTask {
    fn answer(&self, req: &Recorded) -> Reply {
        assert!(req.path.starts_with("/nodes/pve2/tasks/"), "{}", req.path);
        if req.path.ends_with("/status") {
            let poll = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
            let stopped = self.stops_at.is_some_and(|s| poll >= s);
            let mut data = json!({
                "upid": UPID, "node": "pve2", "pid": 172467, "pstart": 22659793,
                "starttime": 1738797250, "type": "vzcreate", "id": "100",
                "user": "infra@pve", "tokenid": "ci",
                "status": if stopped { "stopped" } else { "running" },
            });
            if stopped {
                data["exitstatus"] = json!(self.exit);
            }
            return Reply::data(data);
        }
        let polls = self.polls.load(Ordering::SeqCst).max(1);
        let visible = self.visible[(polls - 1).min(self.visible.len() - 1)];
        let start: usize = req.query["start"].parse().unwrap();
        let limit: usize = req.query["limit"].parse().unwrap();
        let data: Vec<_> = if visible == 0 {
            vec![json!({"n": 1, "t": "no content"})]
        } else {
            (start..visible.min(start + limit))
                .map(|i| json!({"n": i + 1, "t": self.lines[i]}))
                .collect()
        };
        Reply::raw(
            200,
            None,
            json!({"data": data, "total": visible.max(1)}).to_string(),
        )
    }
}

async fn serve(task: ScriptedTask) -> (MockPve, Arc<ScriptedTask>) {
    let task = Arc::new(task);
    let t = task.clone();
    (MockPve::start(move |r| t.answer(r)).await, task)
}

fn upid() -> Upid {
    UPID.parse().unwrap()
}

const FAST: Duration = Duration::from_millis(2);

#[tokio::test]
async fn success_streams_new_lines_as_they_appear() {
    let (server, task) = serve(ScriptedTask {
        visible: vec![0, 1, 3, 4],
        lines: vec![
            "extracting archive '/var/lib/vz/template/cache/debian-12.tar.zst'",
            "Detected container architecture: amd64",
            "Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...",
            "TASK OK",
        ],
        stops_at: Some(4),
        exit: "OK",
        polls: AtomicUsize::new(0),
    })
    .await;
    let client = server.client(token());
    let seen: Arc<Mutex<Vec<(u64, String, usize)>>> = Arc::default();
    let sink = seen.clone();
    let t = task.clone();
    let outcome = client
        .wait_for_task(
            &upid(),
            FAST,
            Duration::from_secs(10),
            move |line: &TaskLogLine| {
                sink.lock()
                    .unwrap()
                    .push((line.n, line.t.clone(), t.polls.load(Ordering::SeqCst)))
            },
        )
        .await
        .unwrap();
    assert_eq!(outcome, TaskOutcome::Ok);
    let seen = seen.lock().unwrap().clone();
    let numbered: Vec<(u64, usize)> = seen.iter().map(|(n, _, poll)| (*n, *poll)).collect();
    // Each line arrives right after the poll that made it visible, exactly once, in order.
    assert_eq!(numbered, [(1, 2), (2, 3), (3, 3), (4, 4)]);
    assert_eq!(seen[3].1, "TASK OK");
    let starts: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/log"))
        .map(|r| r.query["start"].clone())
        .collect();
    assert_eq!(starts, ["0", "0", "1", "3"]);
}

#[tokio::test]
async fn warnings_count_as_success() {
    let (server, _task) = serve(ScriptedTask {
        visible: vec![2],
        lines: vec![
            "WARN: Systemd 258 detected. You may need to enable nesting.",
            "TASK WARNINGS: 1",
        ],
        stops_at: Some(1),
        exit: "WARNINGS: 1",
        polls: AtomicUsize::new(0),
    })
    .await;
    let mut lines = Vec::new();
    let outcome = server
        .client(token())
        .wait_for_task(&upid(), FAST, Duration::from_secs(10), |l| {
            lines.push(l.t.clone())
        })
        .await
        .unwrap();
    assert_eq!(outcome, TaskOutcome::Warnings(1));
    assert_eq!(lines.len(), 2);
}

#[tokio::test]
async fn failure_carries_exit_status_and_last_lines() {
    let (server, _task) = serve(ScriptedTask {
        visible: vec![1, 3],
        lines: vec![
            "Logical volume \"vm-100-disk-0\" created.",
            "lvcreate 'pve/vm-100-disk-0' error: Volume group \"pve\" has insufficient free space",
            "TASK ERROR: unable to create CT 100 - lvcreate failed",
        ],
        stops_at: Some(2),
        exit: "unable to create CT 100 - lvcreate failed",
        polls: AtomicUsize::new(0),
    })
    .await;
    let err = server
        .client(token())
        .wait_for_task(&upid(), FAST, Duration::from_secs(10), |_| {})
        .await
        .unwrap_err();
    match &err {
        PveError::TaskFailed {
            upid,
            exit_status,
            log_tail,
        } => {
            assert_eq!(upid, UPID);
            assert_eq!(exit_status, "unable to create CT 100 - lvcreate failed");
            assert_eq!(log_tail.len(), 3);
            assert!(log_tail[2].starts_with("TASK ERROR"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("failed: unable to create CT 100"));
}

#[tokio::test]
async fn gives_up_after_the_timeout() {
    let (server, task) = serve(ScriptedTask {
        visible: vec![1],
        lines: vec!["starting"],
        stops_at: None,
        exit: "",
        polls: AtomicUsize::new(0),
    })
    .await;
    let started = std::time::Instant::now();
    let err = server
        .client(token())
        .wait_for_task(
            &upid(),
            Duration::from_millis(10),
            Duration::from_millis(80),
            |_| {},
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PveError::TaskTimeout { log_tail, .. } if log_tail == &["starting"]),
        "{err:?}"
    );
    assert!(task.polls.load(Ordering::SeqCst) >= 3);
    assert!(started.elapsed() < Duration::from_secs(5));
}
