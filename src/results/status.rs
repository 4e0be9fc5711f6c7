//! `status.json`: what a variant is doing now, rewritten atomically at every change; and the
//! state a reader tells from it and the run's lock.

use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::metrics::MetricsRow;
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
    /// Stopped at a rung by `[prune]`: behind its peers there (`reason` says by which figures;
    /// the decision is `rungs/eNNNN.json`), with a checkpoint of the epoch judged.
    Pruned,
    /// Paused at the evaluation that judges a rung, until every variant has reached it
    /// (`[prune]` rung by rung, `run --jobs 1`): its figure is `rungs/wNNNN.json`, a checkpoint
    /// of that epoch is written, and the next pass (or a rerun) judges it and trains it on.
    Waiting,
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
            State::Pruned => "pruned",
            State::Waiting => "waiting",
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
    /// Why it stopped: the error of a failed run, the verdict of a collapsed one, the figures
    /// that stopped a pruned one.
    pub reason: Option<String>,
    /// A pruned run trained on past its stop by `run --only pruned`: the epoch it had been
    /// stopped at. No rung judges it any more, and a rerun resumes it to its budget. Absent
    /// otherwise (and in files written before `[prune]` acted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continued_after: Option<u32>,
}

impl Status {
    /// None when absent, or damaged (with a warning): the run's state is then told from its
    /// metrics and checkpoints, and a run that trains writes it again.
    pub(super) fn read(path: &Path) -> Result<Option<Status>> {
        fsx::read_json_or_warn(
            path,
            "status file",
            "the run is taken as interrupted and resumes from its last valid checkpoint",
        )
    }

    pub(super) fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("status serializes");
        fsx::write_atomic(path, format!("{json}\n").as_bytes())
    }

    /// This status checked against the last row metrics.csv holds (None: no rows). Every
    /// status but a failure's is written after its epoch's row; when the rows stop short of it
    /// (lost to a partial copy of the results, or to damage to the file) the run is
    /// interrupted at its last row, with a reason that says so: a rerun trains the lost epochs
    /// again from a checkpoint the rows reach.
    pub fn against_rows(self, last: Option<&MetricsRow>) -> Status {
        let last_step = last.map(|r| r.step);
        if self.state == State::Failed
            || self.steps_done == 0
            || last_step.is_some_and(|s| s >= self.steps_done)
        {
            return self;
        }
        let rows = match last_step {
            Some(step) => format!("metrics.csv ends at step {step}"),
            None => "metrics.csv has no rows".to_string(),
        };
        let reason = format!(
            "status.json says {} at epoch {} (step {}), but {rows}: its last rows were lost (a \
             partial copy, or damage to the file); run the experiment again \
             to train those epochs again",
            self.state.word(),
            self.epochs_done,
            self.steps_done
        );
        Status {
            state: State::Interrupted,
            epochs_done: last.map_or(0, |r| r.epoch),
            steps_done: last_step.unwrap_or(0),
            reason: Some(reason),
            ..self
        }
    }

    /// Nothing is left to train: finished up to `planned` epochs (a raised
    /// `experiment.epochs` extends a finished run), given up as collapsed or stalled, or stopped
    /// at a rung (a raised budget does not revisit that decision; `run --only pruned` trains it
    /// on).
    pub fn is_done(&self, planned: u32) -> bool {
        match self.state {
            State::Finished => self.epochs_done >= planned,
            State::Collapsed | State::Stalled | State::Pruned => true,
            State::Running | State::Failed | State::Interrupted | State::Waiting => false,
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
    /// Stopped at a rung by `[prune]`.
    Pruned,
    /// status.json says waiting (at a rung, for the other variants) and nobody holds the lock.
    Waiting,
}

impl RunState {
    /// `status` (a run's status.json, if any), whether it has metric rows, and whether another
    /// process holds its lock (asked only when the answer matters, at most once).
    pub fn of(status: Option<&Status>, has_rows: bool, locked: impl Fn() -> bool) -> RunState {
        match status.map(|s| s.state) {
            None if !has_rows => RunState::NotStarted,
            None | Some(State::Running | State::Interrupted | State::Waiting) if locked() => {
                RunState::Running
            }
            Some(State::Waiting) => RunState::Waiting,
            None | Some(State::Running | State::Interrupted) => RunState::Interrupted,
            Some(State::Finished) => RunState::Finished,
            Some(State::Collapsed) => RunState::Collapsed,
            Some(State::Stalled) => RunState::Stalled,
            Some(State::Failed) => RunState::Failed,
            Some(State::Pruned) => RunState::Pruned,
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
            RunState::Pruned => "pruned",
            RunState::Waiting => "waiting",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: State, epochs_done: u32) -> Status {
        Status {
            state,
            epochs_done,
            epochs_planned: 30,
            steps_done: epochs_done as u64,
            attempt: 0,
            last_checkpoint: Some(epochs_done),
            reason: None,
            continued_after: None,
        }
    }

    #[test]
    fn what_is_left_to_train() {
        let rows = [
            (State::Finished, 30, 30, true, "finished at its budget"),
            (
                State::Finished,
                30,
                60,
                false,
                "a raised budget extends a finished run",
            ),
            (
                State::Pruned,
                10,
                30,
                true,
                "a stop at a rung is final for a rerun",
            ),
            (
                State::Pruned,
                10,
                60,
                true,
                "a raised budget does not revisit a stop",
            ),
            (State::Collapsed, 12, 30, true, "given up"),
            (State::Interrupted, 12, 30, false, "resumed by a rerun"),
            (
                State::Waiting,
                12,
                30,
                false,
                "judged and trained on by the next pass or a rerun",
            ),
            (State::Failed, 12, 30, false, "tried again by a rerun"),
        ];
        for (state, done, planned, want, why) in rows {
            assert_eq!(status(state, done).is_done(planned), want, "{why}");
        }
    }

    #[test]
    fn pruned_reads_and_older_files_read_without_the_continuation() {
        let json = r#"{"state":"pruned","epochs_done":10,"epochs_planned":30,"steps_done":10,
            "attempt":0,"last_checkpoint":10,"reason":"behind"}"#;
        let s: Status = serde_json::from_str(json).unwrap();
        assert_eq!((s.state, s.continued_after), (State::Pruned, None));
        let text = serde_json::to_string(&s).unwrap();
        assert!(!text.contains("continued_after"), "{text}");
        assert_eq!(
            RunState::of(Some(&s), true, || unreachable!("no lock probe")),
            RunState::Pruned
        );
    }

    #[test]
    fn a_run_waiting_at_a_rung_reads_as_waiting_unless_a_process_holds_it() {
        let mut s = status(State::Waiting, 24);
        s.reason = Some("waits at epoch 24".into());
        let s: Status = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(s.state.word(), "waiting");
        assert_eq!(RunState::of(Some(&s), true, || false), RunState::Waiting);
        assert_eq!(
            RunState::of(Some(&s), true, || true),
            RunState::Running,
            "the next pass resumed it"
        );
    }

    #[test]
    fn a_status_the_rows_do_not_reach_reads_as_interrupted_at_the_last_row() {
        // status(state, 24) claims step 24; a row of step s is epoch s here.
        let rows = [
            (
                State::Finished,
                Some(24),
                State::Finished,
                "the rows reach it",
            ),
            (
                State::Finished,
                Some(23),
                State::Interrupted,
                "its last row lost",
            ),
            (State::Pruned, None, State::Interrupted, "every row lost"),
            (
                State::Collapsed,
                Some(20),
                State::Interrupted,
                "an ending, like finished",
            ),
            (
                State::Waiting,
                Some(20),
                State::Interrupted,
                "a pause, written after its row",
            ),
            (
                State::Running,
                Some(24),
                State::Running,
                "written after its row",
            ),
            (
                State::Interrupted,
                Some(20),
                State::Interrupted,
                "stopped, then rows lost",
            ),
            (State::Failed, None, State::Failed, "an error claims no row"),
        ];
        for (state, last_step, want, why) in rows {
            let last = last_step.map(|s| crate::results::test_rows::row(s, s as u32, 0));
            let checked = status(state, 24).against_rows(last.as_ref());
            assert_eq!(checked.state, want, "{why}");
            let short = state != State::Failed && last_step.is_none_or(|s| s < 24);
            assert_eq!(
                checked.reason.is_some_and(|r| r.contains("metrics.csv")),
                short,
                "{why}: the reason says which file fell short"
            );
            if short {
                let at = last_step.unwrap_or(0);
                assert_eq!(
                    (checked.epochs_done, checked.steps_done),
                    (at as u32, at),
                    "{why}"
                );
            }
        }
    }
}
