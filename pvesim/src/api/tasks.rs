//! `/nodes/{node}/tasks`, `.../{upid}/status` and `.../{upid}/log`.

use serde_json::{Value, json};

use super::Ctx;
use super::error::{ApiData, ApiError, ApiResult};
use crate::state::Task;
use crate::state::upid::Upid;

/// The task named by the `upid` parameter, if the caller may see it.
fn find_task(ctx: &Ctx<'_>) -> Result<Task, ApiError> {
    let upid = ctx.text("upid").unwrap_or_default();
    if Upid::parse(&upid).is_none() {
        return Err(ApiError::param("upid", "unable to parse worker upid"));
    }
    let node = ctx.node();
    let task = ctx
        .sim
        .store
        .read(|s| s.task(&upid).cloned())
        .filter(|t| t.node == node)
        .ok_or_else(|| ApiError::param("upid", "no such task"))?;
    if task.user != ctx.authid() {
        ctx.require(&format!("/nodes/{node}"), "Sys.Audit")?;
    }
    Ok(task)
}

/// `user` and, for token tasks, `tokenid`, split as PVE does.
fn owner_fields(task: &Task, obj: &mut Value) {
    match task.user.split_once('!') {
        Some((user, token)) => {
            obj["user"] = json!(user);
            obj["tokenid"] = json!(token);
        }
        None => obj["user"] = json!(task.user),
    }
}

pub fn status(ctx: &Ctx<'_>) -> ApiResult {
    let task = find_task(ctx)?;
    let mut data = json!({
        "upid": task.upid, "node": task.node, "pid": task.pid, "pstart": task.pstart,
        "starttime": task.starttime, "type": task.task_type, "id": task.id,
        "status": if task.is_running() { "running" } else { "stopped" },
    });
    owner_fields(&task, &mut data);
    if let Some(exit) = &task.exitstatus {
        data["exitstatus"] = json!(exit);
    }
    Ok(ApiData::new(data))
}

pub fn log(ctx: &Ctx<'_>) -> ApiResult {
    let task = find_task(ctx)?;
    let start = ctx.int("start").unwrap_or(0).max(0) as usize;
    let limit = ctx.int("limit").unwrap_or(50).max(0) as usize;
    if task.log.is_empty() {
        return Ok(ApiData {
            data: json!([{ "n": 1, "t": "no content" }]),
            total: Some(1),
        });
    }
    let lines: Vec<Value> = task
        .log
        .iter()
        .enumerate()
        .skip(start)
        .take(limit)
        .map(|(i, line)| json!({ "n": i + 1, "t": line }))
        .collect();
    Ok(ApiData {
        data: Value::Array(lines),
        total: Some(task.log.len()),
    })
}

fn status_kind(exit: &str) -> &'static str {
    if exit == "OK" {
        "ok"
    } else if exit.starts_with("WARNINGS: ") {
        "warning"
    } else if exit == "unexpected status" {
        "unknown"
    } else {
        "error"
    }
}

/// `GET /nodes/{node}/tasks` with PVE's filters, newest first, plus `total`.
pub fn list(ctx: &Ctx<'_>) -> ApiResult {
    let node = ctx.node();
    let caller = ctx.authid();
    let audit = ctx.privs().has("Sys.Audit");
    let vmid = ctx.text("vmid");
    let typefilter = ctx.text("typefilter");
    let userfilter = ctx.text("userfilter");
    let statusfilter: Option<Vec<String>> = ctx.text("statusfilter").map(|s| {
        s.split([',', ';', ' '])
            .filter(|x| !x.is_empty())
            .map(str::to_lowercase)
            .collect()
    });
    let source = ctx.text("source").unwrap_or_else(|| "archive".into());
    let errors_only = ctx.flag("errors");
    let since = ctx.int("since");
    let until = ctx.int("until");
    let mut tasks: Vec<Task> = ctx
        .sim
        .store
        .read(|s| s.tasks.iter().filter(|t| t.node == node).cloned().collect());
    tasks.retain(|t| {
        (audit || t.user == caller)
            && vmid.as_deref().is_none_or(|v| t.id == v)
            && typefilter
                .as_deref()
                .is_none_or(|f| t.task_type.contains(f))
            && userfilter.as_deref().is_none_or(|f| t.user.contains(f))
            && match source.as_str() {
                "active" => t.is_running(),
                "archive" => !t.is_running(),
                _ => true,
            }
            && (!errors_only || t.exitstatus.as_deref().is_some_and(|e| e != "OK"))
            && statusfilter.as_ref().is_none_or(|f| {
                t.exitstatus
                    .as_deref()
                    .is_some_and(|e| f.iter().any(|x| x == status_kind(e)))
            })
            && since.is_none_or(|s| t.starttime >= s)
            && until.is_none_or(|u| t.starttime <= u)
    });
    tasks.sort_by(|a, b| b.starttime.cmp(&a.starttime).then(b.pid.cmp(&a.pid)));
    let total = tasks.len();
    let start = ctx.int("start").unwrap_or(0).max(0) as usize;
    let limit = ctx.int("limit").unwrap_or(50).max(0) as usize;
    let rows: Vec<Value> = tasks
        .iter()
        .skip(start)
        .take(limit)
        .map(|t| {
            let mut row = json!({
                "upid": t.upid, "node": t.node, "pid": t.pid, "pstart": t.pstart,
                "starttime": t.starttime, "type": t.task_type, "id": t.id,
            });
            owner_fields(t, &mut row);
            if let Some(exit) = &t.exitstatus {
                row["status"] = json!(exit);
            }
            if let Some(end) = t.endtime {
                row["endtime"] = json!(end);
            }
            row
        })
        .collect();
    Ok(ApiData {
        data: Value::Array(rows),
        total: Some(total),
    })
}
