//! Task bookkeeping: UPIDs, log lines, and PVE's final `TASK OK` / `TASK WARNINGS` / `TASK ERROR`.

use rand::Rng;

use crate::sim::Sim;
use crate::state::Task;
use crate::state::upid::Upid;

/// How a task worker ended.
pub enum Outcome {
    /// Success, with this many warnings (0 = `OK`).
    Ok(u32),
    Err(String),
}

/// Registers a running task and returns its UPID.
pub fn begin(sim: &Sim, node: &str, task_type: &str, id: &str, user: &str) -> String {
    let starttime = Sim::now();
    let pstart = ((starttime - sim.boot_time).max(0) as u64) * 100 + 1_000_000;
    sim.store.update(|state| {
        if state.next_pid == 0 {
            state.next_pid = rand::thread_rng().gen_range(100_000..900_000);
        }
        let pid = state.next_pid;
        state.next_pid += 1;
        let upid = Upid {
            node: node.to_string(),
            pid,
            pstart,
            starttime,
            task_type: task_type.to_string(),
            id: id.to_string(),
            user: user.to_string(),
        }
        .encode();
        state.push_task(Task {
            upid: upid.clone(),
            node: node.to_string(),
            pid,
            pstart,
            starttime,
            task_type: task_type.to_string(),
            id: id.to_string(),
            user: user.to_string(),
            log: Vec::new(),
            exitstatus: None,
            endtime: None,
        });
        upid
    })
}

/// Appends a line to the task log.
pub fn log(sim: &Sim, upid: &str, line: impl Into<String>) {
    let line = line.into();
    sim.store.update(|state| {
        if let Some(task) = state.task_mut(upid) {
            task.log.push(line);
        }
    });
}

/// Ends the task: final log line and exit status as PVE writes them.
pub fn finish(sim: &Sim, upid: &str, outcome: Outcome) {
    let (line, exit) = match outcome {
        Outcome::Ok(0) => ("TASK OK".to_string(), "OK".to_string()),
        Outcome::Ok(n) => (format!("TASK WARNINGS: {n}"), format!("WARNINGS: {n}")),
        Outcome::Err(msg) => {
            let msg = msg.trim_end().to_string();
            (format!("TASK ERROR: {msg}"), msg)
        }
    };
    tracing::info!(%upid, status = %exit, "task finished");
    sim.store.update(|state| {
        if let Some(task) = state.task_mut(upid) {
            task.log.push(line);
            task.exitstatus = Some(exit);
            task.endtime = Some(Sim::now());
        }
    });
}

/// Logs `WARN:` lines for an injected warning count and returns it.
pub fn injected_warnings(sim: &Sim, upid: &str, task_type: &str) -> u32 {
    let count = sim.faults().take_warnings(task_type).unwrap_or(0);
    for i in 1..=count {
        log(
            sim,
            upid,
            format!("WARN: simulated warning {i} (pvesim fault injection)"),
        );
    }
    count
}
