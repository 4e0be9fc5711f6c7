//! Early stopping of variants that are behind at a rung: asynchronous successive halving
//! (ASHA; Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020), as
//! pure functions of figures. Reading peers' figures and recording decisions is the caller's.

mod config;
mod decide;
mod rungs;

#[cfg(test)]
mod decide_tests;

pub use config::{Metric, PruneConfig};
pub use decide::{Decision, Figure, Standing, best_so_far, could_stop, decide, holds_whatever};
pub use rungs::{Rung, due, judged_at, max_rungs_note, rungs};
