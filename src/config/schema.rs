//! The experiment file's settings: every section, key and default (what serde reads).

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::health::RollbackConfig;
use crate::prune::PruneConfig;

/// All settings of one variant, before validation. `[grid]` lives apart (see `grid.rs`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub experiment: ExperimentSection,
    pub data: DataSection,
    pub model: ModelSection,
    pub train: TrainSection,
    pub checkpoint: CheckpointSection,
    pub rollback: RollbackConfig,
    pub eval: EvalSection,
    pub augment: AugmentSection,
    pub prune: PruneConfig,
    pub tensorboard: TensorboardSection,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentSection {
    /// Directory name under the results directory; empty = the experiment file's stem.
    pub name: String,
    /// Seeds every random stream of training (weights, shuffling, noise).
    pub seed: u64,
    /// Epochs to train; raising it extends finished runs (not part of the variant id).
    pub epochs: u32,
    /// Free text shown in the report (not part of the variant id).
    pub description: String,
}

impl Default for ExperimentSection {
    fn default() -> Self {
        Self {
            name: String::new(),
            seed: 0,
            epochs: 25,
            description: String::new(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// Procedural anime faces, generated on first use and cached under data/.
    Synthetic,
    /// The original dataset's layout: tags.txt, filtered.txt, selected/<k>.jpg.
    Seed,
    /// Any folder tree of PNG/JPEG images.
    Folder,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DataSection {
    pub source: DataSource,
    /// Dataset folder; empty = data/synthetic/<generated name> for `synthetic`, required otherwise.
    pub path: String,
    /// Optional tag file for `folder` sources; empty = unlabelled.
    pub tags_file: String,
    /// Images to generate for `synthetic`.
    pub synthetic_count: u32,
    /// Side of the square training images in pixels: a power of two in 16..=256.
    pub image_size: u32,
    /// Train on a seeded random subset of this many images; 0 = all.
    pub limit: u32,
    /// Real images held out of training for evaluation.
    pub holdout: u32,
    /// Largest share of unreadable images tolerated (they are skipped with a warning).
    pub max_bad_fraction: f64,
    /// Seeds dataset generation and the limit/holdout subsets (apart from experiment.seed,
    /// so that a new training seed reuses the same data).
    pub seed: u64,
}

impl Default for DataSection {
    fn default() -> Self {
        Self {
            source: DataSource::Synthetic,
            path: String::new(),
            tags_file: String::new(),
            synthetic_count: 18_000,
            image_size: 64,
            limit: 0,
            holdout: 500,
            max_bad_fraction: 0.01,
            seed: 0,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// Unconditional DCGAN (Radford et al. 2015).
    Dcgan,
    /// Tag-conditioned DCGAN: G gets the tag vector concatenated to z, D is a projection
    /// discriminator (Miyato & Koyama 2018).
    Cgan,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    pub arch: Arch,
    /// Length of G's noise vector.
    pub z_dim: u32,
    /// G's channel width unit (its widest layer has g_width * image_size / 8 channels).
    pub g_width: u32,
    /// D's channel width unit (its first layer has d_width channels).
    pub d_width: u32,
    /// Spectral normalization of D's convolutions (Miyato et al. 2018), one power iteration
    /// per D step; D then has no batch norm, as in the paper.
    pub spectral_norm: bool,
}

impl Default for ModelSection {
    fn default() -> Self {
        Self {
            arch: Arch::Dcgan,
            z_dim: 100,
            g_width: 64,
            d_width: 64,
            spectral_norm: false,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// The original's scheme: a D phase over the data, then a G phase, each stopping at p0.
    Phased,
    /// The usual per-batch D step then G step; p0 may still skip a side's update.
    Alternating,
}

/// Arithmetic of the training step's forward passes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// Everything in float32.
    #[default]
    Fp32,
    /// Mixed precision: forward passes under libtorch's autocast to bfloat16 (convolutions in
    /// bf16; batch norm statistics, losses, weights, Adam moments and checkpoints in fp32).
    Bf16,
}

impl Precision {
    /// fp32 is left out of variant ids (`config_hash`), so runs made before the key keep theirs.
    pub fn is_fp32(&self) -> bool {
        *self == Precision::Fp32
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Binary cross-entropy on D's logits.
    Bce,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSection {
    pub schedule: Schedule,
    pub lr_g: f64,
    pub lr_d: f64,
    /// Adam's (beta1, beta2).
    pub betas: [f64; 2],
    pub batch_size: u32,
    /// Early-stop threshold: a phase stops once its side's accuracy reaches p0.
    pub p0: f64,
    /// D's targets are 1 - U(0, noise) for real and U(0, noise) for fake.
    pub label_noise: f64,
    pub loss: Loss,
    /// D updates per batch in the alternating schedule, passes per D phase in the phased one.
    pub d_steps: u32,
    /// G updates per batch in the alternating schedule, multiplier of the G phase length in the phased one.
    pub g_steps: u32,
    /// CPU threads for libtorch; 0 = the cores available to this variant.
    pub threads: u32,
    /// "fp32" or "bf16" (mixed precision with fp32 master weights).
    pub precision: Precision,
    /// On CUDA, whether fp32 convolutions and matmuls may run on TF32 tensor cores (10-bit
    /// mantissa; Ampere and later): PyTorch's `torch.backends.cudnn.allow_tf32` and
    /// `torch.backends.cuda.matmul.allow_tf32` together. false = IEEE fp32 everywhere. No effect
    /// on the CPU.
    pub tf32: bool,
    /// Half-life in training images of the exponential moving average of G's weights used for
    /// sample grids, evaluation and `sample` (Karras et al. 2018; StyleGAN's `ema_kimg` x 1000);
    /// 0 = no average.
    pub ema_images: u32,
    /// Weight of the auxiliary tag classifier's terms; 0 = no head; needs a labelled dataset.
    /// D's loss adds its cross-entropy on real images' tags (AC-GAN, Odena et al. 2017); G's
    /// adds, for the CGAN, its cross-entropy on the tags the samples were asked for, and for the
    /// DCGAN the entropy of its reads plus their KL to the data's tag mix (CatGAN's G objective,
    /// Springenberg 2016, with the known prior).
    pub aux_tag_weight: f64,
}

impl Default for TrainSection {
    fn default() -> Self {
        Self {
            schedule: Schedule::Alternating,
            lr_g: 2e-4,
            lr_d: 2e-4,
            betas: [0.5, 0.999],
            batch_size: 128,
            p0: 0.999,
            label_noise: 0.1,
            loss: Loss::Bce,
            d_steps: 1,
            g_steps: 1,
            threads: 0,
            precision: Precision::Fp32,
            tf32: true,
            ema_images: 0,
            aux_tag_weight: 0.0,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CheckpointSection {
    /// Save a checkpoint every this many epochs (and always at the last epoch).
    pub every: u32,
    /// Checkpoints kept on disk; older ones are deleted unless a rollback may still need them.
    pub keep: u32,
}

impl Default for CheckpointSection {
    fn default() -> Self {
        Self { every: 5, keep: 4 }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSection {
    /// Write an 8x8 grid from a fixed noise vector every this many epochs.
    pub sample_every: u32,
    /// Compute the quality figures (swd, diversity, tag_*) every this many epochs; 0 = never.
    /// (One evaluation of 500 images at 32 px takes about 6 s on 2 CPU cores, mostly SWD's
    /// sorting: every 10 epochs keeps it near 10% of a CPU run's time.)
    pub every: u32,
    /// Generated (and held-out real) images the quality figures use; capped by the holdout.
    pub samples: u32,
}

impl Default for EvalSection {
    fn default() -> Self {
        Self {
            sample_every: 1,
            every: 10,
            samples: 2048,
        }
    }
}

/// TensorBoard event files in each run directory (`results::names::TENSORBOARD`), so that
/// `tensorboard --logdir results/<experiment>` shows every variant. Not part of the variant id.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TensorboardSection {
    /// Write them (scalars of every metrics.csv column, sample grids, health events, hparams).
    pub enabled: bool,
}

impl Default for TensorboardSection {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// Differentiable augmentation of every image D sees in training (Zhao et al. 2020), with the
/// adaptive probability of StyleGAN2-ADA (Karras et al. 2020).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentSection {
    /// Comma-separated DiffAugment operations: `color`, `translation`, `cutout`; empty = off.
    pub policy: String,
    /// Probability each operation is applied to an image, at the start of training.
    pub p: f64,
    /// The controller holds r_t = E[sign(D(real))] near this value by moving `p`;
    /// 0 = `p` stays fixed.
    pub target: f64,
    /// Training images over which the controller may move `p` from 0 to 1.
    pub speed_images: u32,
}

impl Default for AugmentSection {
    fn default() -> Self {
        Self {
            policy: String::new(),
            p: 0.0,
            target: 0.6,
            speed_images: 100_000,
        }
    }
}

impl AugmentSection {
    pub fn is_off(&self) -> bool {
        self.policy.trim().is_empty()
    }
}

/// Which DiffAugment operations are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AugmentPolicy {
    pub color: bool,
    pub translation: bool,
    pub cutout: bool,
}

impl AugmentPolicy {
    /// `"color,translation,cutout"` (any subset, any order, spaces allowed).
    pub fn parse(text: &str) -> Result<Self> {
        let mut p = AugmentPolicy::default();
        for op in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match op {
                "color" => p.color = true,
                "translation" => p.translation = true,
                "cutout" => p.cutout = true,
                other => bail!(
                    "unknown augmentation {other:?}: use color, translation or cutout (comma-separated)"
                ),
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_parses_subsets_and_refuses_unknown_operations() {
        assert_eq!(
            AugmentPolicy::parse(" cutout,color ").unwrap(),
            AugmentPolicy {
                color: true,
                translation: false,
                cutout: true
            }
        );
        let err = AugmentPolicy::parse("color,flip").unwrap_err().to_string();
        assert!(
            err.contains("\"flip\"") && err.contains("translation"),
            "{err}"
        );
    }
}
