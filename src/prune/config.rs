//! The `[prune]` section of the experiment file.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The figure variants are ranked by at a rung: the best so far of a `metrics.csv` quality
/// column. Every one of them is lower-is-better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Sliced Wasserstein distance to the held-out images (x1e3).
    Swd,
    /// Fréchet distance in the tag classifier's features (labelled data only).
    TagFd,
    /// KL of the tag mix the classifier reads off the samples (labelled data only).
    TagKl,
}

impl Metric {
    /// Its `metrics.csv` column.
    pub fn column(self) -> &'static str {
        match self {
            Metric::Swd => "swd",
            Metric::TagFd => "tag_fd",
            Metric::TagKl => "tag_kl",
        }
    }

    /// Whether the column is only written for labelled datasets.
    pub fn needs_tags(self) -> bool {
        self != Metric::Swd
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.column())
    }
}

/// When and how hard to stop variants that are behind. Off by default; with it off no variant
/// is ever judged. Not part of the variant id (it decides how far a variant trains, not what).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PruneConfig {
    /// Judge variants at the rungs; false = every variant trains its whole budget.
    pub enabled: bool,
    /// The figure compared at a rung: its best value so far (GAN quality is noisy between
    /// evaluations, so the last value would stop variants on a bad draw).
    pub metric: Metric,
    /// Epoch of the first rung; rung k is at `first_rung * eta^k` epochs.
    pub first_rung: u32,
    /// Reduction factor: a variant goes on past a rung only within the best 1/eta of the
    /// variants judged there (rounded up).
    pub eta: u32,
    /// Other variants that must have a figure at a rung before it may stop anyone: the first
    /// variants to arrive would otherwise be ranked against almost nobody.
    pub min_peers: u32,
    /// Rungs at most (Determined AI's ASHA has the same `max_rungs`); 0 = every rung below the
    /// budget. The survivors of the last rung train to the budget: about n / eta^max_rungs of
    /// n variants finish, so a noisy figure has several finishers to pick the best from.
    pub max_rungs: u32,
}

impl Default for PruneConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            metric: Metric::Swd,
            first_rung: 10,
            eta: 3,
            min_peers: 3,
            max_rungs: 0,
        }
    }
}
