//! Rollback policy: given a verdict and the checkpoints so far, decide where to go back to and
//! what to change. Pure; the trainer carries the action out.

use std::fmt;

use super::config::{Adjust, RollbackConfig};
use super::kind::{Kind, Verdict};

/// A saved checkpoint as the trainer recorded it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckpointInfo {
    pub epoch: u64,
    /// The detector had no streak in progress when it was saved.
    pub healthy: bool,
    pub times_restored: u32,
    /// The swd measured at this epoch, when evaluated.
    pub swd: Option<f64>,
}

/// The settings a rollback may change.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hyper {
    pub lr_g: f64,
    pub lr_d: f64,
    pub label_noise: f64,
    pub batch_size: u32,
}

/// One changed setting; displays as `lr_d 2e-4->1.6e-4`.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub name: String,
    pub from: f64,
    pub to: f64,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = |x: f64| match self.name.as_str() {
            "lr_g" | "lr_d" => fmt_sci(x),
            "batch_size" => format!("{x:.0}"),
            _ => format!("{x:.2}"),
        };
        write!(f, "{} {}->{}", self.name, v(self.from), v(self.to))
    }
}

/// Compact scientific notation with at most 4 significant digits: 2e-4, 1.6e-4, 1.024e-4.
fn fmt_sci(x: f64) -> String {
    let s = format!("{x:.3e}");
    let (mantissa, exp) = s.split_once('e').expect("{:e} always has an exponent");
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    format!("{mantissa}e{exp}")
}

/// Rounds to 12 significant digits, so 0.1 + 0.05 is logged as 0.15, not 0.15000000000000002.
fn tidy(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// `label_noise 0.10->0.15; lr_d 2e-4->1.6e-4` (empty when nothing changed).
pub fn format_changes(changes: &[Change]) -> String {
    changes
        .iter()
        .map(Change::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the trainer should do about a verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Restore the checkpoint of `restore_epoch` and continue with `new` settings.
    Rollback {
        restore_epoch: u64,
        new: Hyper,
        changes: Vec<Change>,
        /// 0 the first time; k when the k previous rollbacks were for the same kind (factors
        /// raised to the power k + 1, k more checkpoints skipped, rates capped at `lr_max`).
        escalation: u32,
    },
    /// Give up on this variant.
    Stop { reason: String },
    /// Rollback is disabled: record the verdict and keep training.
    Continue,
}

impl Action {
    /// The events.csv `action` column.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Rollback { .. } => "rollback",
            Action::Stop { .. } => "stop",
            Action::Continue => "continue",
        }
    }
}

/// How many of the latest rollbacks (`history`, oldest first) were for `kind`, in a row.
pub fn repeats(history: &[Kind], kind: Kind) -> u32 {
    history.iter().rev().take_while(|k| **k == kind).count() as u32
}

/// The kind's adjustments at escalation `k`: factors to the power k + 1, the noise added
/// k + 1 times, k more checkpoints skipped. Source: this project's health benchmark, where a
/// fixed small step repeated the same verdict until max_rollbacks.
pub fn escalated(a: &Adjust, k: u32) -> Adjust {
    let p = (k + 1) as i32;
    Adjust {
        lr_g_factor: a.lr_g_factor.powi(p),
        lr_d_factor: a.lr_d_factor.powi(p),
        label_noise_add: a.label_noise_add * f64::from(p),
        batch_factor: a.batch_factor.powi(p),
        skip_checkpoints: a.skip_checkpoints + k,
    }
}

/// Decide what to do about `verdict`, given the checkpoints saved so far (any order) and the
/// kinds of the rollbacks this variant has already done (oldest first).
pub fn decide(
    cfg: &RollbackConfig,
    checkpoints: &[CheckpointInfo],
    verdict: &Verdict,
    hyper: &Hyper,
    history: &[Kind],
) -> Action {
    if !cfg.enabled {
        return Action::Continue;
    }
    let kind = verdict.kind;
    let rollbacks_done = history.len() as u32;
    if rollbacks_done >= cfg.max_rollbacks {
        return Action::Stop {
            reason: format!(
                "{kind} at epoch {} after {rollbacks_done} rollbacks (max_rollbacks {})",
                verdict.detected_epoch, cfg.max_rollbacks
            ),
        };
    }
    let escalation = repeats(history, kind);
    let adjust = escalated(cfg.adjust(kind), escalation);
    let Some(target) = target(cfg, checkpoints, verdict, &adjust) else {
        return Action::Stop {
            reason: format!(
                "{kind} at epoch {}: no restore point before epoch {} restored fewer than {} times",
                verdict.detected_epoch, verdict.onset_epoch, cfg.max_retries_per_checkpoint
            ),
        };
    };
    // A first rollback trusts the user's scale; a repeat says the scale itself is wrong (no
    // factor undoes 1e20): both rates then go under lr_max, whatever the kind changes.
    let cap = if escalation > 0 {
        cfg.lr_max
    } else {
        f64::INFINITY
    };
    let lr = |v: f64, factor: f64| tidy(v * factor).min(cap);
    let new = Hyper {
        lr_g: lr(hyper.lr_g, adjust.lr_g_factor),
        lr_d: lr(hyper.lr_d, adjust.lr_d_factor),
        // Never lower noise the user chose above the cap.
        label_noise: tidy(hyper.label_noise + adjust.label_noise_add)
            .min(cfg.label_noise_max)
            .max(hyper.label_noise),
        batch_size: ((f64::from(hyper.batch_size) * adjust.batch_factor).round() as u32).max(1),
    };
    let changes = [
        ("label_noise", hyper.label_noise, new.label_noise),
        ("lr_g", hyper.lr_g, new.lr_g),
        ("lr_d", hyper.lr_d, new.lr_d),
        (
            "batch_size",
            f64::from(hyper.batch_size),
            f64::from(new.batch_size),
        ),
    ]
    .into_iter()
    .filter(|(_, from, to)| from != to)
    .map(|(name, from, to)| Change {
        name: name.to_string(),
        from,
        to,
    })
    .collect();
    Action::Rollback {
        restore_epoch: target,
        new,
        changes,
        escalation,
    }
}

/// The epoch to restore: for quality_regression the best-swd checkpoint before the onset;
/// otherwise the newest healthy one before the onset, `skip_checkpoints` further back.
fn target(
    cfg: &RollbackConfig,
    checkpoints: &[CheckpointInfo],
    verdict: &Verdict,
    adjust: &Adjust,
) -> Option<u64> {
    // A checkpoint from inside the episode would reproduce it (the original's 840 did). Epoch
    // 0's initial weights are exempt from the retry limit: restarting from them with new
    // settings is a new run, not a retry of a state that failed (max_rollbacks bounds it).
    let usable = |c: &&CheckpointInfo| {
        c.epoch < verdict.onset_epoch
            && (c.epoch == 0 || c.times_restored < cfg.max_retries_per_checkpoint)
    };
    if verdict.kind == Kind::QualityRegression {
        let best = checkpoints
            .iter()
            .filter(usable)
            .filter_map(|c| c.swd.filter(|v| v.is_finite()).map(|v| (v, c.epoch)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, epoch)) = best {
            return Some(epoch);
        }
    }
    let mut eligible: Vec<&CheckpointInfo> = checkpoints
        .iter()
        .filter(usable)
        .filter(|c| c.healthy)
        .collect();
    eligible.sort_by_key(|c| std::cmp::Reverse(c.epoch));
    // With fewer checkpoints than the skip asks for, the oldest eligible one beats stopping.
    eligible
        .get(adjust.skip_checkpoints as usize)
        .or(eligible.last())
        .map(|c| c.epoch)
}
