//! `metrics.csv`: one row per trained epoch, appended and flushed as the epoch ends.

use serde::{Deserialize, Serialize};

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
    /// CGAN: the same per tag group (tags.txt lines 1, 2 and 3: hair colour, length, eyes).
    #[serde(default)]
    pub tag_acc_hair: Option<f64>,
    #[serde(default)]
    pub tag_acc_length: Option<f64>,
    #[serde(default)]
    pub tag_acc_eyes: Option<f64>,
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
}

pub const TIMING_COLUMNS: &[&str] = &["seconds", "images_per_sec", "eval_seconds"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::csv_log::{append, read, retain};

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
            tag_acc: None,
            tag_acc_hair: None,
            tag_acc_length: None,
            tag_acc_eyes: None,
            tag_fd: None,
            tag_kl: None,
            eval_seconds: None,
            sample_nn: Some(0.9),
            augment_p: None,
            r_t: None,
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
        let kept = retain(&path, |r: &MetricsRow| r.step <= 3).unwrap();
        assert_eq!(kept.len(), 3);
        assert_eq!(read::<MetricsRow>(&path).unwrap(), kept);
        append(&path, &row(4)).unwrap();
        assert_eq!(read::<MetricsRow>(&path).unwrap().len(), 4);
        retain(&path, |_: &MetricsRow| false).unwrap();
        append(&path, &row(1)).unwrap();
        assert_eq!(
            read::<MetricsRow>(&path).unwrap(),
            vec![row(1)],
            "header rewritten after emptying"
        );
    }
}
