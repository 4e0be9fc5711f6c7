//! The `[rollback]` section of the experiment TOML: detector thresholds and per-kind adjustments.

use serde::{Deserialize, Deserializer, Serialize};

use super::hyper::LR_MIN;
use super::kind::Kind;

/// Collapse detection and automatic rollback settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollbackConfig {
    /// Roll back automatically; false still reports verdicts but only logs them.
    pub enabled: bool,
    /// Rollbacks allowed per variant before it is stopped as collapsed.
    pub max_rollbacks: u32,
    /// Times one checkpoint may be restored before older ones are used instead.
    pub max_retries_per_checkpoint: u32,
    /// Training images (epochs x training-set size) during which only non-finite values raise
    /// a verdict: an untrained G is not a collapsed one.
    pub warmup_images: u64,
    /// Bad epochs needed before g_failure or d_fooled becomes a verdict.
    pub patience: u32,
    /// Accuracy margin over the label-noise floor: "near 0" means <= noise / 2 + eps, "near 1"
    /// means >= 1 - noise / 2 - eps.
    pub eps: f64,
    /// Consecutive healthy epochs a streak may contain without ending.
    pub blip_tolerance: u32,
    /// Bad epochs needed before degenerate_output or mode_collapse becomes a verdict.
    pub degenerate_patience: u32,
    /// Samples are degenerate below this fraction of the real data's sample_std / image_std.
    pub degenerate_std_ratio: f64,
    /// A spread or nearest-neighbour figure counts as low only below this fraction of the
    /// attempt's own peak: samples that never became varied have not collapsed, they have not
    /// started yet.
    pub degenerate_drop_ratio: f64,
    /// Samples are saturated noise when their image_std exceeds this multiple of the real
    /// data's (pixels pinned at +-1); only with a real-data reference.
    pub saturation_ratio: f64,
    /// sample_std below this is degenerate when no real-data reference is known.
    pub degenerate_min_sample_std: f64,
    /// sample_image_std below this is degenerate (uniform colour) when no reference is known.
    pub degenerate_min_image_std: f64,
    /// Samples are mode-collapsed when their nearest-neighbour distance is below this fraction
    /// of the real images' (`sample_nn`).
    pub mode_collapse_ratio: f64,
    /// swd worse than the run's best by more than this fraction counts as a regression.
    pub quality_margin: f64,
    /// Evaluations in a row with a regressed swd before quality_regression becomes a verdict.
    pub quality_patience: u32,
    /// Upper bound for label noise raised by rollbacks.
    pub label_noise_max: f64,
    /// Upper bound for both learning rates after an escalated rollback (the same kind again):
    /// an absurd rate (1e20) is not undone by a few factors of 0.1, and Adam moves each weight
    /// by about lr per step whatever the gradient, so a rate near the weights' own scale
    /// (DCGAN init std 0.02) wipes them out.
    pub lr_max: f64,
    /// Adjustments after G failed (D rejects everything).
    #[serde(deserialize_with = "g_failure_patch")]
    pub g_failure: Adjust,
    /// Adjustments after D was fooled (D accepts everything).
    #[serde(deserialize_with = "d_fooled_patch")]
    pub d_fooled: Adjust,
    /// Adjustments after samples collapsed to near-identical or uniform images.
    #[serde(deserialize_with = "degenerate_output_patch")]
    pub degenerate_output: Adjust,
    /// Adjustments after a NaN/Inf loss or weight.
    #[serde(deserialize_with = "non_finite_patch")]
    pub non_finite: Adjust,
    /// Adjustments after the samples came in near-copies (a handful of faces).
    #[serde(deserialize_with = "mode_collapse_patch")]
    pub mode_collapse: Adjust,
    /// Adjustments after swd regressed from the run's best (restores the best-swd checkpoint).
    #[serde(deserialize_with = "quality_regression_patch")]
    pub quality_regression: Adjust,
}

/// How one kind of collapse changes the settings and the restore point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Adjust {
    /// Factor applied to G's learning rate.
    pub lr_g_factor: f64,
    /// Factor applied to D's learning rate.
    pub lr_d_factor: f64,
    /// Added to the label noise (capped at label_noise_max).
    pub label_noise_add: f64,
    /// Factor applied to the batch size (rounded, at least 1).
    pub batch_factor: f64,
    /// Eligible healthy checkpoints to skip: 1 restores two healthy checkpoints back.
    pub skip_checkpoints: u32,
}

impl Adjust {
    /// Changes nothing: the base every kind's defaults start from.
    pub const NEUTRAL: Adjust = Adjust {
        lr_g_factor: 1.0,
        lr_d_factor: 1.0,
        label_noise_add: 0.0,
        batch_factor: 1.0,
        skip_checkpoints: 0,
    };
    /// D rejects everything: give G room by blurring D's targets and slowing D.
    pub const G_FAILURE: Adjust = Adjust {
        lr_d_factor: 0.5,
        label_noise_add: 0.05,
        ..Adjust::NEUTRAL
    };
    /// D accepts everything: slow G and use smaller batches (the author's 128 -> 96 fix).
    pub const D_FOOLED: Adjust = Adjust {
        lr_g_factor: 0.5,
        batch_factor: 0.75,
        ..Adjust::NEUTRAL
    };
    /// Flat or identical samples: G's steps are far too large (a saturated pattern); the last
    /// restore point may already carry the seed of it.
    pub const DEGENERATE_OUTPUT: Adjust = Adjust {
        lr_g_factor: 0.1,
        skip_checkpoints: 1,
        ..Adjust::NEUTRAL
    };
    /// Overflow: both learning rates are far too large.
    pub const NON_FINITE: Adjust = Adjust {
        lr_g_factor: 0.1,
        lr_d_factor: 0.1,
        ..Adjust::NEUTRAL
    };
    /// A handful of faces: G outran D; slow G, and go back before the collapse began.
    pub const MODE_COLLAPSE: Adjust = Adjust {
        lr_g_factor: 0.5,
        skip_checkpoints: 1,
        ..Adjust::NEUTRAL
    };
    /// Quality drifted away from the best: back to the best checkpoint, both sides slower.
    pub const QUALITY_REGRESSION: Adjust = Adjust {
        lr_g_factor: 0.5,
        lr_d_factor: 0.5,
        ..Adjust::NEUTRAL
    };
}

impl Default for Adjust {
    fn default() -> Self {
        Adjust::NEUTRAL
    }
}

/// A kind table as written: absent keys keep that kind's own default, not the neutral one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdjustPatch {
    lr_g_factor: Option<f64>,
    lr_d_factor: Option<f64>,
    label_noise_add: Option<f64>,
    batch_factor: Option<f64>,
    skip_checkpoints: Option<u32>,
}

fn patch<'de, D: Deserializer<'de>>(d: D, base: Adjust) -> Result<Adjust, D::Error> {
    let p = AdjustPatch::deserialize(d)?;
    Ok(Adjust {
        lr_g_factor: p.lr_g_factor.unwrap_or(base.lr_g_factor),
        lr_d_factor: p.lr_d_factor.unwrap_or(base.lr_d_factor),
        label_noise_add: p.label_noise_add.unwrap_or(base.label_noise_add),
        batch_factor: p.batch_factor.unwrap_or(base.batch_factor),
        skip_checkpoints: p.skip_checkpoints.unwrap_or(base.skip_checkpoints),
    })
}

fn g_failure_patch<'de, D: Deserializer<'de>>(d: D) -> Result<Adjust, D::Error> {
    patch(d, Adjust::G_FAILURE)
}

fn d_fooled_patch<'de, D: Deserializer<'de>>(d: D) -> Result<Adjust, D::Error> {
    patch(d, Adjust::D_FOOLED)
}

fn degenerate_output_patch<'de, D: Deserializer<'de>>(d: D) -> Result<Adjust, D::Error> {
    patch(d, Adjust::DEGENERATE_OUTPUT)
}

fn non_finite_patch<'de, D: Deserializer<'de>>(d: D) -> Result<Adjust, D::Error> {
    patch(d, Adjust::NON_FINITE)
}

fn mode_collapse_patch<'de, D: Deserializer<'de>>(d: D) -> Result<Adjust, D::Error> {
    patch(d, Adjust::MODE_COLLAPSE)
}

fn quality_regression_patch<'de, D: Deserializer<'de>>(d: D) -> Result<Adjust, D::Error> {
    patch(d, Adjust::QUALITY_REGRESSION)
}

impl Default for RollbackConfig {
    fn default() -> Self {
        RollbackConfig {
            enabled: true,
            max_rollbacks: 4,
            max_retries_per_checkpoint: 2,
            warmup_images: 10_000,
            patience: 15,
            eps: 0.02,
            blip_tolerance: 1,
            degenerate_patience: 3,
            degenerate_std_ratio: 0.2,
            degenerate_drop_ratio: 0.8,
            saturation_ratio: 1.8,
            degenerate_min_sample_std: 0.05,
            degenerate_min_image_std: 0.05,
            mode_collapse_ratio: 0.6,
            quality_margin: 0.5,
            quality_patience: 2,
            label_noise_max: 0.3,
            lr_max: 2e-3,
            g_failure: Adjust::G_FAILURE,
            d_fooled: Adjust::D_FOOLED,
            degenerate_output: Adjust::DEGENERATE_OUTPUT,
            non_finite: Adjust::NON_FINITE,
            mode_collapse: Adjust::MODE_COLLAPSE,
            quality_regression: Adjust::QUALITY_REGRESSION,
        }
    }
}

impl RollbackConfig {
    /// The adjustments configured for one kind.
    pub fn adjust(&self, kind: Kind) -> &Adjust {
        match kind {
            Kind::GFailure => &self.g_failure,
            Kind::DFooled => &self.d_fooled,
            Kind::DegenerateOutput => &self.degenerate_output,
            Kind::NonFinite => &self.non_finite,
            Kind::ModeCollapse => &self.mode_collapse,
            Kind::QualityRegression => &self.quality_regression,
            // A stall is not cured by factors: the policy fixes a cause or ends the run.
            Kind::Stalled => &Adjust::NEUTRAL,
        }
    }

    /// Every problem at once, each as "rollback.KEY must be ... (got X)".
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        let mut check = |ok: bool, key: &str, rule: &str, got: String| {
            if !ok {
                errs.push(format!("rollback.{key} must be {rule} (got {got})"));
            }
        };
        check(
            self.patience >= 1,
            "patience",
            "at least 1",
            self.patience.to_string(),
        );
        check(
            self.degenerate_patience >= 1,
            "degenerate_patience",
            "at least 1",
            self.degenerate_patience.to_string(),
        );
        check(
            self.quality_patience >= 1,
            "quality_patience",
            "at least 1",
            self.quality_patience.to_string(),
        );
        check(
            self.max_retries_per_checkpoint >= 1,
            "max_retries_per_checkpoint",
            "at least 1",
            self.max_retries_per_checkpoint.to_string(),
        );
        check(
            self.eps > 0.0 && self.eps < 0.5,
            "eps",
            "in (0, 0.5)",
            self.eps.to_string(),
        );
        for (key, v) in [
            ("degenerate_std_ratio", self.degenerate_std_ratio),
            ("mode_collapse_ratio", self.mode_collapse_ratio),
            ("degenerate_drop_ratio", self.degenerate_drop_ratio),
        ] {
            check((0.0..=1.0).contains(&v), key, "in [0, 1]", v.to_string());
        }
        check(
            self.saturation_ratio.is_finite() && self.saturation_ratio >= 1.0,
            "saturation_ratio",
            "a number >= 1",
            self.saturation_ratio.to_string(),
        );
        check(
            self.quality_margin.is_finite() && self.quality_margin >= 0.0,
            "quality_margin",
            "a number >= 0",
            self.quality_margin.to_string(),
        );
        for (key, v) in [
            ("degenerate_min_sample_std", self.degenerate_min_sample_std),
            ("degenerate_min_image_std", self.degenerate_min_image_std),
        ] {
            check((0.0..=2.0).contains(&v), key, "in [0, 2]", v.to_string());
        }
        // Noise of 0.5 or more would make real and fake targets indistinguishable.
        check(
            (0.0..0.5).contains(&self.label_noise_max),
            "label_noise_max",
            "in [0, 0.5)",
            self.label_noise_max.to_string(),
        );
        // Under the floor the policy never lowers a rate to, every rollback would set both
        // rates under it and the stop's advice would blame train.lr_g and train.lr_d.
        check(
            self.lr_max.is_finite() && self.lr_max >= LR_MIN,
            "lr_max",
            &format!("a number >= {LR_MIN:e} (the floor no rollback lowers a rate under)"),
            self.lr_max.to_string(),
        );
        for kind in Kind::ALL {
            let a = self.adjust(kind);
            for (name, v) in [
                ("lr_g_factor", a.lr_g_factor),
                ("lr_d_factor", a.lr_d_factor),
                ("batch_factor", a.batch_factor),
            ] {
                let key = format!("{kind}.{name}");
                check(
                    v.is_finite() && v > 0.0,
                    &key,
                    "a positive number",
                    v.to_string(),
                );
            }
            check(
                (0.0..0.5).contains(&a.label_noise_add),
                &format!("{kind}.label_noise_add"),
                "in [0, 0.5)",
                a.label_noise_add.to_string(),
            );
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(RollbackConfig::default().validate(), Vec::<String>::new());
    }

    #[test]
    fn validate_reports_every_problem() {
        let mut bad = RollbackConfig {
            patience: 0,
            eps: 0.5,
            label_noise_max: 0.5,
            lr_max: 1e-9,
            ..RollbackConfig::default()
        };
        bad.d_fooled.batch_factor = 0.0;
        let cases: &[(&str, &str)] = &[
            (
                "rollback.patience must be at least 1 (got 0)",
                "zero patience never waits",
            ),
            (
                "rollback.eps must be in (0, 0.5) (got 0.5)",
                "0.5 makes near-0 and near-1 overlap",
            ),
            (
                "rollback.label_noise_max must be in [0, 0.5) (got 0.5)",
                "noise 0.5 erases the labels",
            ),
            (
                "rollback.lr_max must be a number >= 1e-5 (the floor no rollback lowers a rate \
                 under) (got 0.000000001)",
                "a cap under the floor set both rates to 1e-9 and the stop blamed train.lr_g",
            ),
            (
                "rollback.d_fooled.batch_factor must be a positive number (got 0)",
                "nested keys are named with their table",
            ),
        ];
        let errs = bad.validate();
        assert_eq!(errs.len(), cases.len(), "{errs:#?}");
        for (msg, why) in cases {
            assert!(
                errs.iter().any(|e| e == msg),
                "{why}: missing {msg:?} in {errs:#?}"
            );
        }
    }

    #[test]
    fn toml_round_trip_and_partial_tables() {
        let cfg = RollbackConfig::default();
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(toml::from_str::<RollbackConfig>(&text).unwrap(), cfg);

        let partial: RollbackConfig =
            toml::from_str("patience = 20\n[g_failure]\nlabel_noise_add = 0.1\n").unwrap();
        assert_eq!(partial.patience, 20);
        assert_eq!(partial.g_failure.label_noise_add, 0.1);
        assert_eq!(
            partial.g_failure.lr_d_factor, 0.5,
            "absent keys keep the kind's own default"
        );
        assert_eq!(
            partial.d_fooled, cfg.d_fooled,
            "absent tables keep the kind's defaults"
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        for (text, why) in [
            ("patiense = 3", "top-level typo"),
            ("[g_failure]\nlr_factor = 0.5", "typo inside a kind table"),
            ("[mode_colapse]\nlr_g_factor = 0.5", "unknown kind table"),
        ] {
            assert!(toml::from_str::<RollbackConfig>(text).is_err(), "{why}");
        }
    }
}
