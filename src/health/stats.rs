//! Per-epoch numbers the detector reads, and the real-data reference they are compared with.

use serde::{Deserialize, Serialize};

use super::hyper::Hyper;

/// What one finished epoch looked like. Accuracies are soft means as the original defined them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EpochStats {
    pub epoch: u64,
    /// D's mean sigmoid output on real images.
    pub d_acc_real: f64,
    /// 1 - D's mean output on fakes.
    pub d_acc_fake: f64,
    /// D's mean output on G's samples.
    pub g_acc: f64,
    pub d_loss: Option<f64>,
    pub g_loss: Option<f64>,
    /// Mean per-pixel std across a fixed batch of samples, in [-1, 1] pixel units.
    pub sample_std: Option<f64>,
    /// Mean over samples of each image's own pixel std (about 0 for a uniform-colour image).
    pub sample_image_std: Option<f64>,
    /// Mean nearest-neighbour distance among the fixed-noise samples over the same figure for
    /// real images (`train::samples::nn_distance`): near 0 when samples come in copies.
    pub sample_nn: Option<f64>,
    /// Label noise in force this epoch; None when the log does not say (read as 0).
    pub label_noise: Option<f64>,
    /// Sliced Wasserstein distance x1e3 to held-out images, on evaluated epochs.
    pub swd: Option<f64>,
    /// A small SWD of the fixed-noise samples to a fixed set of training images over the same
    /// figure for other training images (`train::samples::GridSwd`), every epoch: 1 = as close
    /// to the data as real images.
    pub sample_swd: Option<f64>,
    /// D's and G's optimiser updates this epoch; the p0 gate (or a non-finite loss) skipped
    /// the rest of their steps.
    pub d_updates: Option<f64>,
    pub g_updates: Option<f64>,
    /// The settings this epoch trained with; None when the log does not say.
    pub hyper: Option<Hyper>,
    /// A NaN/Inf loss or weight was seen this epoch.
    pub non_finite: bool,
}

impl EpochStats {
    /// True when the epoch is flagged non-finite or any figure the detector reads is NaN/Inf.
    pub fn any_non_finite(&self) -> bool {
        let optional = [
            self.d_loss,
            self.g_loss,
            self.sample_std,
            self.sample_image_std,
            self.sample_nn,
            self.label_noise,
            self.swd,
            self.sample_swd,
        ];
        self.non_finite
            || ![self.d_acc_real, self.d_acc_fake, self.g_acc]
                .iter()
                .chain(optional.iter().flatten())
                .all(|v| v.is_finite())
    }
}

/// The same figures measured on real images, so thresholds scale with the data set (recorded
/// in run.json for a replay).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RealReference {
    pub sample_std: f64,
    pub image_std: f64,
    /// Mean nearest-neighbour distance among 64 real images (`sample_nn`'s denominator).
    pub nn_distance: f64,
}

/// A run of epochs without restarts: replay gives each segment a fresh detector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segment {
    /// 1-based line of the input where the segment's first epoch starts.
    pub line: usize,
    pub stats: Vec<EpochStats>,
}
