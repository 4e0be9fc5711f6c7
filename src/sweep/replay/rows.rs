//! A run's rows against its plan: the epochs it was planned for, the last one its rows reach,
//! and whether they end early for a reason the replay cannot follow past.

use crate::results::RunState;
use crate::results::reader::Run;

/// The epochs `run` was planned for: its plan, else its status, else its last row's epoch.
pub(super) fn budget(run: &Run) -> u32 {
    run.planned_epochs
        .or(run.status.as_ref().map(|s| s.epochs_planned))
        .unwrap_or_else(|| run.rows.iter().map(|r| r.epoch).max().unwrap_or(0))
}

/// The last epoch of `run`'s kept rows (0 without rows).
pub(super) fn last_epoch(run: &Run) -> u32 {
    run.kept().last().map_or(0, |r| r.epoch)
}

/// Whether `run`'s rows end before its budget for a reason other than its own training's end
/// (a collapse or stall ends it under any rule; a finished run trained the budget it had):
/// past them the replay cannot follow it.
pub(super) fn truncated(run: &Run) -> bool {
    !ended_by_training(run) && last_epoch(run) < budget(run)
}

/// Whether the sweep ended `run` by its own training (finished, collapsed, stalled): it ends
/// so under any rule.
pub(super) fn ended_by_training(run: &Run) -> bool {
    matches!(
        run.state,
        RunState::Finished | RunState::Collapsed | RunState::Stalled
    )
}

/// Why the rows of a run in `state` end before its budget.
pub(super) fn rows_end_why(state: RunState) -> &'static str {
    match state {
        RunState::Pruned => "pruned live by the recorded rule",
        RunState::Running => "still running",
        RunState::Interrupted => "interrupted",
        RunState::Waiting => "waiting at a rung",
        RunState::Failed => "failed",
        RunState::NotStarted => "not started",
        RunState::Finished | RunState::Collapsed | RunState::Stalled => "ended",
    }
}
