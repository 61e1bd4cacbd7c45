//! The persisted simulator state and its JSON file (written atomically after each change).

pub mod model;
pub mod upid;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::SimError;
pub use model::{Container, PasswordHash, PowerState, Task};

/// Tasks kept in the state file (oldest dropped first).
const MAX_TASKS: usize = 1000;

/// Everything that survives a restart.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub containers: BTreeMap<u32, Container>,
    pub tasks: Vec<Task>,
    /// Next fake worker pid for UPIDs.
    pub next_pid: u32,
}

impl State {
    pub fn container_on(&self, node: &str, vmid: u32) -> Option<&Container> {
        self.containers.get(&vmid).filter(|c| c.node == node)
    }

    pub fn task(&self, upid: &str) -> Option<&Task> {
        self.tasks.iter().rev().find(|t| t.upid == upid)
    }

    pub fn task_mut(&mut self, upid: &str) -> Option<&mut Task> {
        self.tasks.iter_mut().rev().find(|t| t.upid == upid)
    }

    pub fn push_task(&mut self, task: Task) {
        self.tasks.push(task);
        if self.tasks.len() > MAX_TASKS {
            let excess = self.tasks.len() - MAX_TASKS;
            self.tasks.drain(..excess);
        }
    }
}

/// The state behind a lock, mirrored to `state.json`.
pub struct Store {
    path: PathBuf,
    inner: Mutex<State>,
}

impl Store {
    /// Loads `state.json` from `dir`, or starts empty.
    pub fn open(dir: &Path) -> Result<Self, SimError> {
        let path = dir.join("state.json");
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SimError::StateFile {
                path: path.clone(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => {
                return Err(SimError::StateFile {
                    path,
                    message: e.to_string(),
                });
            }
        };
        Ok(Self {
            path,
            inner: Mutex::new(state),
        })
    }

    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock())
    }

    /// Changes the state and writes it out before the lock is released.
    pub fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.lock();
        let result = f(&mut state);
        if let Err(e) = self.persist(&state) {
            tracing::error!(path = %self.path.display(), error = %e, "cannot write state file");
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn persist(&self, state: &State) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &self.path)
    }
}
