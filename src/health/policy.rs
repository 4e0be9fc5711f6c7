//! Rollback policy: given a verdict and the checkpoints so far, decide where to go back to and
//! what to change. Pure; the trainer carries the action out.

use std::fmt;

use super::config::{Adjust, RollbackConfig};
use super::detector::Findings;
use super::hyper::{Hyper, LR_MIN};
use super::kind::{Kind, Side, Verdict};

/// DCGAN's learning rate for both sides (Radford et al. 2015, section 4): a rate above
/// `lr_max` is brought to it, and a stall with a rate above it and rollbacks left lowers that
/// rate tenfold, not under it.
pub const USUAL_LR: f64 = 2e-4;

/// What a stall's rollback divides a rate above `USUAL_LR` by.
const STALL_SLOWDOWN: f64 = 10.0;

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

/// One changed setting and why, in words; displays as `lr_d 2e-4->1.6e-4`, or
/// `lr_d 5e-1->2e-4 (D's learning rate was 250x the cap ...)` when the policy says why, or
/// `lr_g kept at 2e-5 (...)` for a change the policy declined.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub name: String,
    pub from: f64,
    pub to: f64,
    /// Empty when the kind's table alone explains it.
    pub why: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = |x: f64| match self.name.as_str() {
            "lr_g" | "lr_d" => fmt_sci(x),
            "batch_size" => format!("{x:.0}"),
            _ => format!("{x:.2}"),
        };
        if self.from == self.to {
            write!(f, "{} kept at {}", self.name, v(self.from))?;
        } else {
            write!(f, "{} {}->{}", self.name, v(self.from), v(self.to))?;
        }
        if !self.why.is_empty() {
            write!(f, " ({})", self.why)?;
        }
        Ok(())
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
    /// Give up on this variant. `stalled`: it got nowhere rather than collapsed (the ending
    /// `stalled`, as for `Kind::Stalled`).
    Stop { reason: String, stalled: bool },
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

/// One earlier rollback of this run, as the policy reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PastRollback {
    pub kind: Kind,
    /// The settings it rolled back from, when known: with a rate above `lr_max` there, it
    /// fixed that cause and did not apply its kind's table.
    pub from: Option<Hyper>,
    /// The settings it went on with, when known (the next attempt's first row).
    pub to: Option<Hyper>,
}

impl PastRollback {
    /// It changed no setting (only the random numbers of the retry), as far as is known.
    fn changed_nothing(&self) -> bool {
        matches!((self.from, self.to), (Some(a), Some(b)) if a == b)
    }
}

impl From<Kind> for PastRollback {
    fn from(kind: Kind) -> Self {
        PastRollback {
            kind,
            from: None,
            to: None,
        }
    }
}

/// How many of the latest rollbacks (`history`, oldest first) applied `kind`'s table, in a
/// row. A rollback that fixed a rate above `lr_max` ends the row: its kind's table was never
/// tried, so the same kind after it is no repeat (health bench, seed 13: both rates capped at
/// 2e-3 trained well until a `degenerate_output`, which then cut G's rate a hundredfold, to
/// 2e-5, and restored epoch 0; it ended 9.3x the floor).
pub fn repeats(cfg: &RollbackConfig, history: &[PastRollback], kind: Kind) -> u32 {
    history
        .iter()
        .rev()
        .take_while(|p| p.kind == kind && p.from.is_none_or(|h| out_of_range(cfg, &h).is_empty()))
        .count() as u32
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

/// Decide what to do about `verdict`, given the checkpoints saved so far (any order), the
/// kinds of the rollbacks this variant has already done (oldest first) and what the figures say
/// beyond the verdict (`findings`).
///
/// Cause before cure: a learning rate above `lr_max` is the cause whatever the kind, and the
/// first rollback brings it to `USUAL_LR` (`fix_causes`) and changes nothing else. Otherwise
/// the kind's table applies (escalated on repeats), its rate factor moved to the side the
/// figures show ahead when the table slows the other one. Either way no setting is moved further from the value
/// it trained healthily with in this run once an earlier rollback has moved it off that value.
/// A stall with rollbacks left lowers the rates above `USUAL_LR` (`slow_to_usual`); with none
/// there, or none left, it ends the run (the ending `stalled`), and so does any verdict but an
/// overflow on a run with a learning rate under `LR_MIN`: that rate is the cause, and a
/// rollback only slows.
pub fn decide(
    cfg: &RollbackConfig,
    checkpoints: &[CheckpointInfo],
    verdict: &Verdict,
    hyper: &Hyper,
    history: &[PastRollback],
    findings: &Findings,
) -> Action {
    if !cfg.enabled {
        return Action::Continue;
    }
    let kind = verdict.kind;
    let rollbacks_done = history.len() as u32;
    let causes = out_of_range(cfg, hyper);
    let slowed = (kind == Kind::Stalled && causes.is_empty()).then(|| slow_to_usual(hyper));
    let nothing_to_slow = slowed.as_ref().is_some_and(|(new, _)| new == hyper);
    if nothing_to_slow || (kind == Kind::Stalled && rollbacks_done >= cfg.max_rollbacks) {
        return Action::Stop {
            reason: stall_advice(hyper, findings),
            stalled: true,
        };
    }
    let low = too_low(hyper);
    if kind != Kind::NonFinite && !low.is_empty() {
        return Action::Stop {
            reason: format!(
                "{kind} at epoch {}: {}; a rollback only slows",
                verdict.detected_epoch,
                low.join(", ")
            ),
            stalled: true,
        };
    }
    if rollbacks_done >= cfg.max_rollbacks {
        return Action::Stop {
            reason: format!(
                "{kind} at epoch {} after {rollbacks_done} rollbacks (max_rollbacks {})",
                verdict.detected_epoch, cfg.max_rollbacks
            ),
            stalled: kind == Kind::Stalled,
        };
    }
    let escalation = repeats(cfg, history, kind);
    let adjust = escalated(cfg.adjust(kind), escalation);
    let Some(target) = target(cfg, checkpoints, verdict, &adjust) else {
        return Action::Stop {
            reason: format!(
                "{kind} at epoch {}: no restore point before epoch {} restored fewer than {} times",
                verdict.detected_epoch, verdict.onset_epoch, cfg.max_retries_per_checkpoint
            ),
            stalled: kind == Kind::Stalled,
        };
    };
    let (new, mut why) = if let Some(slowed) = slowed {
        slowed
    } else if causes.is_empty() {
        cure(cfg, hyper, &adjust, escalation, findings)
    } else {
        fix_causes(cfg, hyper, causes)
    };
    let new = keep_near_healthy(hyper, new, findings.healthy.as_ref(), cfg, &mut why);
    if kind == Kind::Stalled && new == *hyper {
        return Action::Stop {
            reason: stall_advice(hyper, findings),
            stalled: true,
        };
    }
    // A retry that changes no setting draws new random numbers, and may pass; a second one
    // after a first that did not help would only spend the rollbacks left.
    if new == *hyper && history.last().is_some_and(PastRollback::changed_nothing) {
        return Action::Stop {
            reason: format!(
                "{kind} at epoch {}: the last rollback changed no setting and trouble came back; \
                 no setting the rollback policy may change is left to change ({}); {}",
                verdict.detected_epoch,
                unchanged(&why),
                stall_advice(hyper, findings)
            ),
            stalled: kind == Kind::Stalled,
        };
    }
    let changes = [
        (
            "label_noise",
            hyper.label_noise,
            new.label_noise,
            why.label_noise,
        ),
        ("lr_g", hyper.lr_g, new.lr_g, why.lr_g),
        ("lr_d", hyper.lr_d, new.lr_d, why.lr_d),
        (
            "batch_size",
            f64::from(hyper.batch_size),
            f64::from(new.batch_size),
            why.batch_size,
        ),
    ]
    .into_iter()
    .filter(|(_, from, to, why)| from != to || !why.is_empty())
    .map(|(name, from, to, why)| Change {
        name: name.to_string(),
        from,
        to,
        why,
    })
    .collect();
    Action::Rollback {
        restore_epoch: target,
        new,
        changes,
        escalation,
    }
}

/// Why each setting changed (empty: the kind's table alone), in `Change` order.
#[derive(Debug, Default)]
struct Why {
    label_noise: String,
    lr_g: String,
    lr_d: String,
    batch_size: String,
}

/// The reasons given for settings held where they were, `name: why` joined; "the kind's table
/// changes none" when none was given.
fn unchanged(why: &Why) -> String {
    let held: Vec<String> = [
        ("label_noise", &why.label_noise),
        ("lr_g", &why.lr_g),
        ("lr_d", &why.lr_d),
        ("batch_size", &why.batch_size),
    ]
    .into_iter()
    .filter(|(_, w)| !w.is_empty())
    .map(|(name, w)| format!("{name}: {w}"))
    .collect();
    if held.is_empty() {
        "the kind's table changes none".to_string()
    } else {
        held.join("; ")
    }
}

/// Appends `text` to a reason, after "; " when there is one already.
fn add_why(why: &mut String, text: String) {
    if !why.is_empty() {
        why.push_str("; ");
    }
    why.push_str(&text);
}

/// Cause before cure: each side's rate above `lr_max` goes to `USUAL_LR` (the cap, if that is
/// lower), and nothing else changes. The cap bounds what is sane; it is no rate to train at: in
/// the health benchmark a G brought to 2e-3 against D's 2e-4 (ten times faster) kept its
/// samples far from the data (`sample_swd` 7 to 8 at the end, 3x to 4.4x the swd floor on
/// held-out seed 17), where both sides at one rate ended near it.
fn fix_causes(cfg: &RollbackConfig, hyper: &Hyper, causes: Vec<(Side, f64)>) -> (Hyper, Why) {
    let (to, words) = if USUAL_LR <= cfg.lr_max {
        (USUAL_LR, format!("the usual {}", fmt_sci(USUAL_LR)))
    } else {
        (cfg.lr_max, "the cap".to_string())
    };
    let mut new = *hyper;
    let mut why = Why::default();
    for (side, times) in causes {
        let text = format!(
            "{side}'s learning rate was {} the cap (rollback.lr_max {}); lowered to {words}",
            fmt_times(times),
            fmt_sci(cfg.lr_max)
        );
        match side {
            Side::G => (new.lr_g, why.lr_g) = (to, text),
            Side::D => (new.lr_d, why.lr_d) = (to, text),
        }
    }
    (new, why)
}

/// The sides whose learning rate is above `lr_max` (or NaN), with how many times the cap it is.
fn out_of_range(cfg: &RollbackConfig, hyper: &Hyper) -> Vec<(Side, f64)> {
    [(Side::G, hyper.lr_g), (Side::D, hyper.lr_d)]
        .into_iter()
        .filter(|(_, lr)| lr.is_nan() || *lr > cfg.lr_max)
        .map(|(side, lr)| (side, lr / cfg.lr_max))
        .collect()
}

/// `250x`, `1.5x`, `1e+23x` (an overflowing rate).
fn fmt_times(x: f64) -> String {
    if !x.is_finite() || x >= 1e6 {
        format!("{x:.0e}x")
    } else if x >= 10.0 {
        format!("{x:.0}x")
    } else {
        format!("{x:.1}x")
    }
}

/// The kind's table (escalated) applied to `hyper`, its rate factor on the side ahead when
/// the table slows only the other one; a repeat caps both rates at `lr_max`.
fn cure(
    cfg: &RollbackConfig,
    hyper: &Hyper,
    adjust: &Adjust,
    escalation: u32,
    findings: &Findings,
) -> (Hyper, Why) {
    let mut a = adjust.clone();
    let mut why = Why::default();
    if let Some(ahead) = &findings.ahead {
        let (slows_g, slows_d) = (a.lr_g_factor < 1.0, a.lr_d_factor < 1.0);
        let text = |slowed: Side, spared: Side| {
            format!(
                "{slowed} was ahead ({}), so {slowed}'s rate was lowered instead of {spared}'s",
                ahead.why
            )
        };
        if ahead.side == Side::D && slows_g && !slows_d {
            (a.lr_g_factor, a.lr_d_factor) = (1.0, a.lr_g_factor);
            why.lr_d = text(Side::D, Side::G);
        } else if ahead.side == Side::G && slows_d && !slows_g {
            (a.lr_g_factor, a.lr_d_factor) = (a.lr_d_factor, 1.0);
            why.lr_g = text(Side::G, Side::D);
        }
    }
    // A first rollback trusts the user's scale; a repeat says the scale itself is wrong (no
    // factor undoes 1e20): both rates then go under lr_max, whatever the kind changes.
    let cap = if escalation > 0 {
        cfg.lr_max
    } else {
        f64::INFINITY
    };
    // Never under LR_MIN: a rate there is a cause of its own (`decide` stops on it). A rate the
    // floor holds says so: a retry at the same rate is no cure the table meant.
    let lr = |v: f64, factor: f64, why: &mut String| {
        let wanted = tidy(v * factor);
        let floor = LR_MIN.min(v);
        if wanted < floor {
            let held = if v <= floor {
                "already at"
            } else {
                "lowered only to"
            };
            add_why(
                why,
                format!(
                    "{held} the floor {}: the table's x{} would go under it",
                    fmt_sci(LR_MIN),
                    tidy(factor)
                ),
            );
        }
        wanted.min(cap).max(floor)
    };
    let wanted_noise = tidy(hyper.label_noise + a.label_noise_add);
    if a.label_noise_add > 0.0 && wanted_noise > cfg.label_noise_max {
        why.label_noise = format!(
            "held at rollback.label_noise_max {}: the table adds {}",
            tidy(cfg.label_noise_max),
            tidy(a.label_noise_add)
        );
    }
    let new = Hyper {
        lr_g: lr(hyper.lr_g, a.lr_g_factor, &mut why.lr_g),
        lr_d: lr(hyper.lr_d, a.lr_d_factor, &mut why.lr_d),
        // Never lower noise the user chose above the cap.
        label_noise: wanted_noise.min(cfg.label_noise_max).max(hyper.label_noise),
        batch_size: ((f64::from(hyper.batch_size) * a.batch_factor).round() as u32).max(1),
    };
    (new, why)
}

/// A stall's cure: every rate above `USUAL_LR` divided by `STALL_SLOWDOWN`, not under it. A
/// rate capped at `lr_max` is still ten times the usual, and in the health benchmark the runs
/// that stalled there were rescued by going on lowering it.
fn slow_to_usual(hyper: &Hyper) -> (Hyper, Why) {
    let mut new = *hyper;
    let mut why = Why::default();
    let slow = |lr: f64, side: Side, why: &mut String| {
        if lr <= USUAL_LR {
            return lr;
        }
        *why = format!(
            "the samples got no closer at {side}'s learning rate {}, above the usual {}",
            fmt_sci(lr),
            fmt_sci(USUAL_LR)
        );
        tidy(lr / STALL_SLOWDOWN).max(USUAL_LR)
    };
    new.lr_g = slow(hyper.lr_g, Side::G, &mut why.lr_g);
    new.lr_d = slow(hyper.lr_d, Side::D, &mut why.lr_d);
    (new, why)
}

/// `new` with every setting that an earlier rollback moved off its value in `healthy` (the
/// settings of the run's latest restore point) held where it is rather than moved further
/// away: a first step away from a configuration that trained healthily is allowed, compounding
/// steps are not (the rescue of a run whose G rate was cut twice for D's fault failed that
/// way). A rate above `lr_max` in `healthy` is no reference. Distances are ratios for rates and
/// batch sizes, differences for the label noise.
fn keep_near_healthy(
    hyper: &Hyper,
    mut new: Hyper,
    healthy: Option<&Hyper>,
    cfg: &RollbackConfig,
    why: &mut Why,
) -> Hyper {
    let Some(h) = healthy else { return new };
    let ratio = |a: f64, b: f64| (a / b).ln().abs();
    let further = |from: f64, to: f64, anchor: f64, dist: &dyn Fn(f64, f64) -> f64| {
        from != anchor && dist(to, anchor) > dist(from, anchor) + 1e-12
    };
    let text = |name: &str, anchor: String| {
        format!("not moved further from {name} {anchor}, which trained healthily in this run")
    };
    let rates = [
        (hyper.lr_g, &mut new.lr_g, h.lr_g, "lr_g", &mut why.lr_g),
        (hyper.lr_d, &mut new.lr_d, h.lr_d, "lr_d", &mut why.lr_d),
    ];
    for (from, to, anchor, name, why) in rates {
        if anchor <= cfg.lr_max && further(from, *to, anchor, &ratio) {
            *to = from;
            *why = text(name, fmt_sci(anchor));
        }
    }
    let abs = |a: f64, b: f64| (a - b).abs();
    if further(hyper.label_noise, new.label_noise, h.label_noise, &abs) {
        new.label_noise = hyper.label_noise;
        why.label_noise = text("label_noise", format!("{:.2}", h.label_noise));
    }
    let batch = |b: u32| f64::from(b);
    if further(
        batch(hyper.batch_size),
        batch(new.batch_size),
        batch(h.batch_size),
        &ratio,
    ) {
        new.batch_size = hyper.batch_size;
        why.batch_size = text("batch_size", h.batch_size.to_string());
    }
    new
}

/// The sides whose learning rate is under `LR_MIN`, each as advice in words.
fn too_low(hyper: &Hyper) -> Vec<String> {
    [("G", "lr_g", hyper.lr_g), ("D", "lr_d", hyper.lr_d)]
        .into_iter()
        .filter(|(_, _, lr)| *lr < LR_MIN)
        .map(|(side, key, lr)| {
            format!(
                "{side}'s learning rate {} is far under the usual range (from {}): raise train.{key}",
                fmt_sci(lr),
                fmt_sci(LR_MIN)
            )
        })
        .collect()
}

/// The stop reason of a run that got nowhere, with what to change: the side that was ahead
/// over the stall says which net is too weak; a rate under `LR_MIN` says to raise it.
fn stall_advice(hyper: &Hyper, findings: &Findings) -> String {
    let low = too_low(hyper);
    if !low.is_empty() {
        low.join(", ")
    } else {
        match &findings.ahead {
            Some(a) if a.side == Side::D => format!(
                "D was ahead ({}): G is too weak for it, try a wider G (model.g_width) or a \
                 slower or narrower D (train.lr_d, model.d_width)",
                a.why
            ),
            Some(a) => format!(
                "G was ahead ({}): D is too weak for it, try a wider D (model.d_width), fewer G \
                 steps (train.g_steps) or a slower G (train.lr_g)",
                a.why
            ),
            None => "no setting the rollback policy changes is out of range: try a wider G \
                     (model.g_width) or other learning rates (train.lr_g, train.lr_d)"
                .to_string(),
        }
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
