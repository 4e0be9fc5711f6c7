//! Per-epoch numbers the detector reads, and the real-data reference they are compared with.

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
    /// A NaN/Inf loss or weight was seen this epoch.
    pub non_finite: bool,
}

/// The same two spreads measured on real images, so thresholds scale with the data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RealReference {
    pub sample_std: f64,
    pub image_std: f64,
}

/// A run of epochs without restarts: replay gives each segment a fresh detector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segment {
    /// 1-based line of the input where the segment's first epoch starts.
    pub line: usize,
    pub stats: Vec<EpochStats>,
}
