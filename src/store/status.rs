//! `status.json`: what a variant is doing now, rewritten atomically at every change.

use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::fsx;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Running,
    Finished,
    /// Stopped by the health policy after too many rollbacks, or ended inside a collapse
    /// episode with rollback disabled.
    Collapsed,
    /// Stopped by the health policy because the samples never got near the data and stopped
    /// getting closer (or ended so with rollback disabled); `reason` has the figures and what
    /// to change.
    Stalled,
    /// Stopped by an error; `reason` says which.
    Failed,
    /// Stopped on request (a signal) after an epoch, with a checkpoint of that epoch.
    Interrupted,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Status {
    pub state: State,
    /// Epoch of the current timeline reached (rolled-back epochs are not counted).
    pub epochs_done: u32,
    pub epochs_planned: u32,
    /// Epochs trained in all, abandoned attempts included (the last `step` of metrics.csv).
    pub steps_done: u64,
    pub attempt: u32,
    pub last_checkpoint: Option<u32>,
    /// Why it stopped: the error of a failed run, the verdict of a collapsed one.
    pub reason: Option<String>,
}

impl Status {
    pub fn read(path: &Path) -> Result<Option<Status>> {
        fsx::read_json(path, "status file")
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("status serializes");
        fsx::write_atomic(path, format!("{json}\n").as_bytes())
    }
}
