//! `metrics.csv`: one row per trained epoch, appended and flushed as the epoch ends. `MetricsRow`
//! is the file's only schema: the recorder writes it, every reader (resume, report, status,
//! replay, the tests) reads it back through `read` or `parse`.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::csv_log::{self, Extra};
use super::metrics_text;
use crate::health::{EpochStats, Hyper, Segment};

/// One epoch's figures. Column order is the CSV's; `seconds`, `images_per_sec` and
/// `eval_seconds` are the only timing columns (everything else replays exactly on a CPU).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct MetricsRow {
    /// Epochs trained in all, never reset (abandoned attempts included).
    #[serde(default)]
    pub step: u64,
    pub epoch: u32,
    /// 0, then +1 after each rollback.
    #[serde(default)]
    pub attempt: u32,
    /// Absent only from files the runner did not write (replay reads any log with the four
    /// accuracy columns): every figure the detector reads is then an Option, every other
    /// column reads as 0.
    #[serde(default)]
    pub d_loss: Option<f64>,
    #[serde(default)]
    pub g_loss: Option<f64>,
    /// Mean of D's sigmoid output on real batches.
    pub d_acc_real: f64,
    /// 1 - mean of D's output on fake batches.
    pub d_acc_fake: f64,
    /// Mean of D's output on G's samples in the G phase.
    pub g_acc: f64,
    #[serde(default)]
    pub d_acc_real_hard: f64,
    #[serde(default)]
    pub d_acc_fake_hard: f64,
    #[serde(default)]
    pub g_acc_hard: f64,
    #[serde(default)]
    pub d_updates: u32,
    #[serde(default)]
    pub g_updates: u32,
    #[serde(default)]
    pub lr_g: f64,
    #[serde(default)]
    pub lr_d: f64,
    #[serde(default)]
    pub label_noise: Option<f64>,
    #[serde(default)]
    pub batch_size: u32,
    /// Mean per-pixel std across the fixed-noise samples; collapse drives it to 0.
    #[serde(default)]
    pub sample_std: Option<f64>,
    /// Mean over the fixed-noise samples of each image's own pixel std; a flat image has 0.
    #[serde(default)]
    pub sample_image_std: Option<f64>,
    /// A loss or weight was NaN/Inf this epoch.
    #[serde(default)]
    pub non_finite: bool,
    /// Wall time of the epoch's training and sample grid (evaluation excluded).
    #[serde(default)]
    pub seconds: f64,
    /// Training images per second: dataset images consumed (real images D was trained on)
    /// over `seconds`, the figure other tools report; G's batches are not counted again.
    #[serde(default)]
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

/// Whether a metrics.csv column is a per-group accuracy (`tag_acc_<group>`).
pub fn is_group_column(name: &str) -> bool {
    name.starts_with(GROUP_PREFIX)
}

pub const GROUP_PREFIX: &str = "tag_acc_";

/// The column the per-group accuracy columns follow.
const GROUPS_AFTER: &str = "tag_acc";

impl MetricsRow {
    /// The value of `[prune]`'s metric on this row; None on epochs without evaluation.
    pub fn figure(&self, metric: crate::prune::Metric) -> Option<f64> {
        match metric {
            crate::prune::Metric::Swd => self.swd,
            crate::prune::Metric::TagFd => self.tag_fd,
            crate::prune::Metric::TagKl => self.tag_kl,
        }
    }

    /// Training images this epoch consumed (dataset images D was trained on).
    pub fn images(&self) -> f64 {
        self.images_per_sec * self.seconds
    }

    /// The row with its timing figures cleared: what two runs of one variant agree on (the
    /// rest replays exactly on a CPU).
    pub fn without_timing(self) -> MetricsRow {
        MetricsRow {
            seconds: 0.0,
            images_per_sec: 0.0,
            eval_seconds: None,
            ..self
        }
    }

    /// Whether the row says what it trained with (updates, rates, batch size): every row this
    /// runner writes does; a file from before those columns, or an export without them, reads
    /// them as 0, and a batch of 0 images is no setting.
    fn records_settings(&self) -> bool {
        self.batch_size > 0
    }

    /// The detector's view of this row. Values are passed as they are (NaN included): a
    /// non-finite figure is itself a `non_finite` epoch, and so is a non-finite loss.
    pub fn epoch_stats(&self) -> EpochStats {
        let losses_finite = [self.d_loss, self.g_loss]
            .iter()
            .flatten()
            .all(|v| v.is_finite());
        EpochStats {
            epoch: self.epoch as u64,
            d_acc_real: self.d_acc_real,
            d_acc_fake: self.d_acc_fake,
            g_acc: self.g_acc,
            d_loss: self.d_loss,
            g_loss: self.g_loss,
            sample_std: self.sample_std,
            sample_image_std: self.sample_image_std,
            sample_nn: self.sample_nn,
            label_noise: self.label_noise,
            swd: self.swd,
            sample_swd: self.sample_swd,
            d_updates: self.records_settings().then_some(f64::from(self.d_updates)),
            g_updates: self.records_settings().then_some(f64::from(self.g_updates)),
            hyper: self.records_settings().then(|| Hyper {
                lr_g: self.lr_g,
                lr_d: self.lr_d,
                label_noise: self.label_noise.unwrap_or(0.0),
                batch_size: self.batch_size,
            }),
            non_finite: self.non_finite || !losses_finite,
        }
    }
}

/// Appends `row` with its per-group columns.
pub(super) fn append(path: &Path, row: &MetricsRow) -> Result<()> {
    csv_log::append_with(path, row, &row.tag_acc_groups, GROUPS_AFTER)
}

/// Every row of the metrics.csv at `path` (none when there is no file), read as `parse` reads.
pub fn read(path: &Path) -> Result<Vec<MetricsRow>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    parse(csv_log::complete_lines(&text)).with_context(|| format!("cannot read {}", path.display()))
}

/// Every row of a metrics.csv's text, leniently: a header naming at least `epoch`,
/// `d_acc_real`, `d_acc_fake` and `g_acc`; columns added in later releases read as absent from
/// older files; unknown columns are ignored; a file saved by a spreadsheet reads too (a BOM,
/// CRLF, `;` or tab separators, decimal commas, `0`/`1` for booleans).
pub fn parse(text: &str) -> Result<Vec<MetricsRow>> {
    Ok(metrics_text::rows(text)?
        .into_iter()
        .map(|(_, row)| row)
        .collect())
}

/// A metrics.csv's text as the detector's segments (replay): a new segment starts where
/// `attempt` changes or `epoch` does not increase (a rollback or a restart replays epochs).
pub fn segments(text: &str) -> Result<Vec<Segment>> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut prev: Option<(u32, u32)> = None;
    for (line, row) in metrics_text::rows(text)? {
        let restart = prev.is_some_and(|(e, a)| row.epoch <= e || a != row.attempt);
        if restart || segments.is_empty() {
            segments.push(Segment {
                line,
                stats: Vec::new(),
            });
        }
        segments
            .last_mut()
            .expect("pushed above")
            .stats
            .push(row.epoch_stats());
        prev = Some((row.epoch, row.attempt));
    }
    Ok(segments)
}

/// Rewrites metrics.csv atomically with only the rows `keep` accepts; returns them.
pub(super) fn retain(path: &Path, keep: impl Fn(&MetricsRow) -> bool) -> Result<Vec<MetricsRow>> {
    let rows: Vec<MetricsRow> = read(path)?.into_iter().filter(|r| keep(r)).collect();
    if path.exists() {
        csv_log::rewrite_with(path, &rows, |r| &r.tag_acc_groups, GROUPS_AFTER)?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u64) -> MetricsRow {
        MetricsRow {
            step,
            epoch: step as u32,
            attempt: 0,
            d_loss: Some(0.5),
            g_loss: Some(2.0),
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
            label_noise: Some(0.1),
            batch_size: 64,
            sample_std: Some(0.3),
            sample_image_std: Some(0.4),
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
