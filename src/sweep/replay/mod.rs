//! What a `[prune]` rule would have done to a sweep that trained without it (or with another
//! rule), from its metrics alone (no training; reads only). Each variant is judged by the same
//! functions a live sweep uses (`prune::judged_at`, `best_so_far`, `decide`), from its metrics as
//! they stood at each evaluation (rows a later rollback abandoned still count until that
//! rollback; an evaluation rolled back or stopped at once judges nothing):
//! - `replay`: as `run --jobs 1` trains them, rung by rung (`sweep::rungwise`): at each rung
//!   every variant that reached it is judged against all the others there;
//! - `replay_in_order`: as variants arriving one after another are judged (ASHA, what
//!   `--jobs N` and Slurm array tasks do), each against the variants before it.
//!
//! A variant whose rows end before the rule would stop it (pruned live by a stricter rule,
//! unfinished, not started) cannot be followed past them: it is `Unknown` from there, the
//! others are judged without it only where the decision holds whatever it had
//! (`prune::holds_whatever`), and a decision it could turn makes that variant `Unknown` too.
//!
//! The decisions: `judge` (a run's arrivals at the rungs and one decision), `decide` (the two
//! orders), `end` (how each run ends). The cost: `cost` (one run's images), `totals` (the
//! sums and the winner's fate). Both read a run's rows against its plan through `rows`.

mod cost;
mod decide;
mod end;
mod judge;
mod rows;
mod totals;

#[cfg(test)]
mod cost_tests;
#[cfg(test)]
mod decide_tests;
#[cfg(test)]
pub(super) mod tests;

pub use cost::EpochImages;
pub use decide::{replay, replay_in_order, replay_rungwise};
pub use end::{EpochFigure, Replayed, UNKNOWN};
pub use judge::{Judged, Unknown};
pub use totals::{Best, Fate, Kept, Totals, totals};
