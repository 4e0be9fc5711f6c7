//! `metrics.csv`: one row per trained epoch, appended and flushed as the epoch ends.

use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::csv_log::{self, Extra};

/// One epoch's figures. Column order is the CSV's; `TIMING_COLUMNS` are the only
/// timing columns (everything else replays exactly on CPU).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MetricsRow {
    /// Epochs trained in all, never reset (abandoned attempts included).
    pub step: u64,
    pub epoch: u32,
    /// 0, then +1 after each rollback.
    pub attempt: u32,
    pub d_loss: f64,
    pub g_loss: f64,
    /// Mean of D's sigmoid output on real batches.
    pub d_acc_real: f64,
    /// 1 - mean of D's output on fake batches.
    pub d_acc_fake: f64,
    /// Mean of D's output on G's samples in the G phase.
    pub g_acc: f64,
    pub d_acc_real_hard: f64,
    pub d_acc_fake_hard: f64,
    pub g_acc_hard: f64,
    pub d_updates: u32,
    pub g_updates: u32,
    pub lr_g: f64,
    pub lr_d: f64,
    pub label_noise: f64,
    pub batch_size: u32,
    /// Mean per-pixel std across the fixed-noise samples; collapse drives it to 0.
    pub sample_std: f64,
    /// Mean over the fixed-noise samples of each image's own pixel std; a flat image has 0.
    pub sample_image_std: f64,
    /// A loss or weight was NaN/Inf this epoch.
    pub non_finite: bool,
    /// Wall time of the epoch's training and sample grid (evaluation excluded).
    pub seconds: f64,
    /// Training images per second: dataset images consumed (real images D was trained on)
    /// over `seconds`, the figure other tools report; G's batches are not counted again.
    pub images_per_sec: f64,
    /// Quality figures (`[eval]`), empty on epochs without evaluation. SWD x1e3 against the
    /// held-out images, mean over pyramid levels.
    #[serde(default)]
    pub swd: Option<f64>,
    /// Mean pairwise distance of the fixed-noise samples over that of real images.
    #[serde(default)]
    pub diversity: Option<f64>,
    /// CGAN: share of samples whose every requested tag the classifier reads back.
    #[serde(default)]
    pub tag_acc: Option<f64>,
    /// CGAN: the same per tag group, one column `tag_acc_<group name>` each right after
    /// `tag_acc` (`Vocabulary::group_names`: `tag_acc_hair`, `tag_acc_length`, `tag_acc_eyes`
    /// on the anime faces); present on every row of a run whose dataset is labelled and
    /// evaluated, empty on epochs without evaluation.
    #[serde(skip)]
    pub tag_acc_groups: Extra,
    /// Fréchet distance between held-out and generated images in the classifier's features.
    #[serde(default)]
    pub tag_fd: Option<f64>,
    /// Sum over tag groups of KL(real tag distribution || the samples' distribution).
    #[serde(default)]
    pub tag_kl: Option<f64>,
    /// Seconds the evaluation took (not part of `seconds`), on epochs that evaluated.
    #[serde(default)]
    pub eval_seconds: Option<f64>,
    /// Mean nearest-neighbour distance among the fixed-noise samples over that of real images
    /// (`train::samples`); mode collapse drives it to 0. Empty in files written before it.
    #[serde(default)]
    pub sample_nn: Option<f64>,
    /// `[augment]`: the augmentation probability at the end of the epoch (StyleGAN2-ADA's p);
    /// empty without augmentation.
    #[serde(default)]
    pub augment_p: Option<f64>,
    /// `[augment]`: the epoch's mean of E[sign(D(real))] over D steps, on augmented real
    /// images (the controller holds it near `augment.target`); empty without augmentation.
    #[serde(default)]
    pub r_t: Option<f64>,
    /// A small SWD of the fixed-noise samples to 64 training images over the same figure for
    /// other training images (`train::samples::GridSwd`), every epoch: 1 = as close to the
    /// data as real images; empty on a non-finite epoch and in files written before it.
    #[serde(default)]
    pub sample_swd: Option<f64>,
}

pub const TIMING_COLUMNS: &[&str] = &["seconds", "images_per_sec", "eval_seconds"];

/// Whether a metrics.csv column is a per-group accuracy (`tag_acc_<group>`).
pub fn is_group_column(name: &str) -> bool {
    name.starts_with(GROUP_PREFIX)
}

pub const GROUP_PREFIX: &str = "tag_acc_";

/// Appends `row` with its per-group columns.
pub fn append(path: &Path, row: &MetricsRow) -> Result<()> {
    csv_log::append_with(path, row, &row.tag_acc_groups, "tag_acc")
}

/// Every row, with its per-group columns.
pub fn read(path: &Path) -> Result<Vec<MetricsRow>> {
    Ok(csv_log::read_with(path, is_group_column)?
        .into_iter()
        .map(with_groups)
        .collect())
}

/// Rewrites metrics.csv atomically with only the rows `keep` accepts; returns them.
pub fn retain(path: &Path, keep: impl Fn(&MetricsRow) -> bool) -> Result<Vec<MetricsRow>> {
    Ok(
        csv_log::retain_with(path, keep, is_group_column, "tag_acc")?
            .into_iter()
            .map(with_groups)
            .collect(),
    )
}

fn with_groups((mut row, groups): (MetricsRow, Extra)) -> MetricsRow {
    row.tag_acc_groups = groups;
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u64) -> MetricsRow {
        MetricsRow {
            step,
            epoch: step as u32,
            attempt: 0,
            d_loss: 0.5,
            g_loss: 2.0,
            d_acc_real: 0.9,
            d_acc_fake: 0.8,
            g_acc: 0.1,
            d_acc_real_hard: 1.0,
            d_acc_fake_hard: 1.0,
            g_acc_hard: 0.0,
            d_updates: 10,
            g_updates: 10,
            lr_g: 2e-4,
            lr_d: 2e-4,
            label_noise: 0.1,
            batch_size: 64,
            sample_std: 0.3,
            sample_image_std: 0.4,
            non_finite: false,
            seconds: 1.5,
            images_per_sec: 100.0,
            swd: step.is_multiple_of(2).then_some(12.5),
            diversity: None,
            tag_acc: step.is_multiple_of(2).then_some(0.5),
            tag_acc_groups: vec![
                (
                    "tag_acc_category".into(),
                    step.is_multiple_of(2).then_some(0.75),
                ),
                ("tag_acc_skin_tone".into(), None),
            ],
            tag_fd: None,
            tag_kl: None,
            eval_seconds: None,
            sample_nn: Some(0.9),
            augment_p: None,
            r_t: None,
            sample_swd: Some(1.5),
        }
    }

    #[test]
    fn append_read_retain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        for s in 1..=5 {
            append(&path, &row(s)).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 6, "one header and five rows");
        assert!(text.starts_with("step,epoch,attempt,"));
        assert!(
            text.contains(",tag_acc,tag_acc_category,tag_acc_skin_tone,tag_fd,"),
            "group columns follow tag_acc: {text}"
        );
        assert_eq!(read(&path).unwrap(), (1..=5).map(row).collect::<Vec<_>>());
        let kept = retain(&path, |r: &MetricsRow| r.step <= 3).unwrap();
        assert_eq!(kept.len(), 3);
        assert_eq!(read(&path).unwrap(), kept);
        append(&path, &row(4)).unwrap();
        assert_eq!(read(&path).unwrap().len(), 4);
        retain(&path, |_: &MetricsRow| false).unwrap();
        append(&path, &row(1)).unwrap();
        assert_eq!(
            read(&path).unwrap(),
            vec![row(1)],
            "header rewritten after emptying"
        );
    }

    #[test]
    fn files_without_group_columns_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let mut plain = row(2);
        plain.tag_acc_groups.clear();
        append(&path, &plain).unwrap();
        assert_eq!(read(&path).unwrap(), vec![plain]);
    }
}
