//! What one run costs under the replayed rule, in training images and epochs (rows abandoned
//! by a rollback included): what the sweep trained, its whole budget (rows cut short go on to
//! their planned epochs at the pace of their rows), and what the rule trains of it at least
//! and at most. `sweep::cost` estimates a sweep before it runs; this measures one after.

use std::collections::HashMap;

use super::rows::{budget, last_epoch, truncated};
use crate::results::MetricsRow;
use crate::results::reader::Run;

/// Training images of one epoch of the variants without rows to measure it from (from their
/// config and data), by id; the others' are measured from their rows.
pub type EpochImages = HashMap<String, f64>;

/// Training images and the epochs they make.
pub(super) type Amount = (f64, usize);

/// How far the rule trains a variant at least, for its images.
#[derive(Debug, Clone, Copy)]
pub(super) enum Through {
    /// Its rows through this metrics.csv step.
    Step(u64),
    /// All its rows, then this many epochs past them.
    PastRows(u32),
}

/// A run's training images and epochs: what the sweep trained, and its whole budget (past
/// rows cut short, at the pace of its rows).
pub(super) struct Images<'a> {
    run: &'a Run,
    per_epoch: f64,
    pub(super) recorded: Amount,
    pub(super) full: Amount,
}

impl<'a> Images<'a> {
    pub(super) fn of(run: &'a Run, given: &EpochImages) -> Images<'a> {
        let per_epoch = per_epoch(run, given);
        let recorded = rows_through(run, u64::MAX);
        let left = if truncated(run) {
            budget(run) - last_epoch(run)
        } else {
            0
        };
        Images {
            run,
            per_epoch,
            recorded,
            full: past(recorded, left, per_epoch),
        }
    }

    /// What the rule trains of the run, (at least, at most): through the stop at
    /// `stop_step`; else through `lost`, where the replay loses track of it, and at most its
    /// budget; else its budget.
    pub(super) fn replayed(
        &self,
        stop_step: Option<u64>,
        lost: Option<Through>,
    ) -> (Amount, Amount) {
        let least = match (stop_step, lost) {
            (Some(step), _) => self.through(Through::Step(step)),
            (None, Some(through)) => self.through(through),
            (None, None) => self.full,
        };
        let most = if lost.is_some() { self.full } else { least };
        (least, most)
    }

    fn through(&self, through: Through) -> Amount {
        match through {
            Through::Step(step) => rows_through(self.run, step),
            Through::PastRows(n) => past(self.recorded, n, self.per_epoch),
        }
    }
}

/// Training images of one epoch of `run`: the mean of its rows, else what `given` says.
fn per_epoch(run: &Run, given: &EpochImages) -> f64 {
    let rows: Vec<f64> = run.kept().map(|r| r.images()).collect();
    if rows.is_empty() {
        given.get(&run.id).copied().unwrap_or(0.0)
    } else {
        rows.iter().sum::<f64>() / rows.len() as f64
    }
}

/// `run`'s rows through metrics.csv `step`.
fn rows_through(run: &Run, step: u64) -> Amount {
    let rows: Vec<&MetricsRow> = run.rows.iter().filter(|r| r.step <= step).collect();
    (rows.iter().map(|r| r.images()).sum(), rows.len())
}

/// `rows` and then `epochs` more of `per_epoch` images.
fn past(rows: Amount, epochs: u32, per_epoch: f64) -> Amount {
    (
        rows.0 + f64::from(epochs) * per_epoch,
        rows.1 + epochs as usize,
    )
}
