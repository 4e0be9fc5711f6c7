//! `status.json`: what a variant is doing now, rewritten atomically at every change; and the
//! state a reader tells from it and the run's lock.

use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::fsx;

/// The state a run writes into status.json.
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

impl State {
    /// The state as status.json spells it.
    pub fn word(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Finished => "finished",
            State::Collapsed => "collapsed",
            State::Stalled => "stalled",
            State::Failed => "failed",
            State::Interrupted => "interrupted",
        }
    }
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
    pub(super) fn read(path: &Path) -> Result<Option<Status>> {
        fsx::read_json(path, "status file")
    }

    pub(super) fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("status serializes");
        fsx::write_atomic(path, format!("{json}\n").as_bytes())
    }

    /// Nothing is left to train: finished up to `planned` epochs (a raised
    /// `experiment.epochs` extends a finished run), or given up as collapsed or stalled.
    pub fn is_done(&self, planned: u32) -> bool {
        match self.state {
            State::Finished => self.epochs_done >= planned,
            State::Collapsed | State::Stalled => true,
            State::Running | State::Failed | State::Interrupted => false,
        }
    }
}

/// Where a variant stands, as a reader tells it from status.json and the run's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    NotStarted,
    /// status.json says running and another process holds the run's lock.
    Running,
    /// status.json says running (or interrupted) and nobody holds the lock: stopped or
    /// killed; rerun to resume.
    Interrupted,
    Finished,
    Collapsed,
    Stalled,
    Failed,
}

impl RunState {
    /// `status` (a run's status.json, if any), whether it has metric rows, and whether another
    /// process holds its lock (asked only when the answer matters, at most once).
    pub fn of(status: Option<&Status>, has_rows: bool, locked: impl Fn() -> bool) -> RunState {
        match status.map(|s| s.state) {
            None if !has_rows => RunState::NotStarted,
            None | Some(State::Running | State::Interrupted) if locked() => RunState::Running,
            None | Some(State::Running | State::Interrupted) => RunState::Interrupted,
            Some(State::Finished) => RunState::Finished,
            Some(State::Collapsed) => RunState::Collapsed,
            Some(State::Stalled) => RunState::Stalled,
            Some(State::Failed) => RunState::Failed,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            RunState::NotStarted => "not started",
            RunState::Running => "running",
            RunState::Interrupted => "interrupted",
            RunState::Finished => "finished",
            RunState::Collapsed => "collapsed",
            RunState::Stalled => "stalled",
            RunState::Failed => "failed",
        }
    }
}
