//! `quality-reference.json`: the reference figures a run's quality columns are read against,
//! written into every evaluating run directory (and cached beside the dataset by `eval`).

use serde::{Deserialize, Serialize};

/// What `quality-reference.json` holds (beside the dataset cache and in every run directory).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct QualityReference {
    pub dataset: String,
    /// Images per set behind `swd_floor`.
    pub samples: i64,
    /// SWD (x1e3) between a seeded random sample of `samples` training images and as many
    /// held-out images: the best a generator can hope for at this sample count; per pyramid
    /// level (finest first, mean over the draws) and their mean.
    pub swd_floor_levels: Vec<f64>,
    pub swd_floor: f64,
    /// Standard deviation of the floor over its `swd_floor_draws` measurements (each another
    /// random training sample): how much one SWD figure moves by chance alone. Absent (0) in
    /// files written before it.
    #[serde(default)]
    pub swd_floor_std: f64,
    #[serde(default)]
    pub swd_floor_draws: u64,
    /// Mean pairwise distance of 64 held-out images (the denominator of `diversity`).
    pub real_pairwise_distance: f64,
    /// The tag classifier's held-out accuracy per tag group (absent when unlabelled).
    pub classifier_accuracy: Option<Vec<f64>>,
    pub tag_groups: Option<Vec<Vec<String>>>,
    /// Per tag group, the name of its accuracy column `tag_acc_<name>` (see
    /// `Vocabulary::group_names`). Absent in files written before it.
    #[serde(default)]
    pub tag_group_names: Option<Vec<String>>,
    /// `tag_kl` of real images: a seeded random sample of `samples` training images read by
    /// the classifier against the held-out images' reading, mean and standard deviation over
    /// `swd_floor_draws` samples (absent when unlabelled and in files written before it).
    #[serde(default)]
    pub tag_kl_floor: Option<f64>,
    #[serde(default)]
    pub tag_kl_floor_std: Option<f64>,
}
