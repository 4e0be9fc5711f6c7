//! `run.json`: how a run was started, so a results folder holding runs of several recipes (an
//! edited grid, a `--set` that changes what is trained) still tells each run's origin: the
//! experiment file, the run's index and grid values there, and the overrides in force when it
//! last trained. Runs written before it have none; readers then read config.toml.

use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::config::{Experiment, Override, Variant};
use crate::data::DataIdentity;
use crate::fsx;
use crate::health::RealReference;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunInfo {
    /// The experiment file, as it was given.
    pub experiment: String,
    /// The variant's index in that file's plan.
    pub index: usize,
    /// Its value of every grid and sampled key, `[key, value]` as the manifest writes them.
    pub grid: Vec<(String, String)>,
    /// `--set` and `ANIGAN_*` settings in force when it last trained.
    pub overrides: Vec<Override>,
    /// The data it trained on (`sweep::same_data` refuses to resume it on other data); absent
    /// in runs written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DataIdentity>,
    /// What its collapse detector was built from besides `[rollback]`, so that `replay` judges
    /// its metrics.csv as the run did; absent in runs written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<DetectorInputs>,
    /// A CGAN run's training images per tag of its vocabulary (tags.txt order), so that
    /// `sample --tags` can say a tag was on none; absent for other runs and in runs written
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_counts: Option<Vec<u64>>,
}

/// The figures of `health::DetectorSetup` a run's settings do not hold.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct DetectorInputs {
    /// Training images per epoch (the training set's size): what the warm-up counts.
    pub epoch_images: u64,
    /// The real images' figures its samples were compared with.
    pub real_reference: RealReference,
}

impl RunInfo {
    /// What `run.json` says of `variant` started from `experiment`, trained on `dataset` with
    /// a detector built from `detector`, and `tag_counts` training images per tag (a CGAN).
    pub fn of(
        experiment: &Experiment,
        variant: &Variant,
        dataset: &DataIdentity,
        detector: DetectorInputs,
        tag_counts: Option<Vec<u64>>,
    ) -> RunInfo {
        RunInfo {
            dataset: Some(dataset.clone()),
            detector: Some(detector),
            tag_counts,
            experiment: experiment.file.display().to_string(),
            index: variant.index,
            grid: super::manifest::grid_texts(&experiment.grid_keys, variant),
            overrides: experiment.overrides.clone(),
        }
    }

    /// None when absent, or damaged (with a warning): the run's index then comes from its id,
    /// and a run that trains writes it again.
    pub(super) fn read(path: &Path) -> Result<Option<RunInfo>> {
        fsx::read_json_or_warn(
            path,
            "run description",
            "the run's index is read off its id (training writes it again)",
        )
    }

    pub(super) fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("run info serializes");
        fsx::write_atomic(path, format!("{json}\n").as_bytes())
    }
}
