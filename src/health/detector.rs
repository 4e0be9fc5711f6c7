//! Collapse detector: turns a stream of epoch stats into verdicts once a bad streak is sustained.

use super::config::RollbackConfig;
use super::kind::{Kind, Verdict};
use super::stats::{EpochStats, RealReference};

/// What one epoch did to a streak.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Update {
    Nothing,
    Fired,
    /// A streak that had fired ended; the value is its first healthy epoch.
    Ended(u64),
}

#[derive(Debug, Clone)]
struct Streak {
    onset: u64,
    bad: u32,
    /// Healthy epochs in a row since the last bad one.
    gap: u32,
    /// Healthy epochs inside the streak so far.
    healthy: u32,
    fired: bool,
    /// Largest observed value over the bad epochs (reported as evidence).
    worst: f64,
}

/// One kind's streak: `patience` bad epochs; runs of up to `blip` healthy epochs may interrupt
/// it as long as healthy epochs stay at most half the bad ones.
#[derive(Debug, Clone)]
struct Tracker {
    patience: u32,
    blip: u32,
    streak: Option<Streak>,
}

impl Tracker {
    fn new(patience: u32, blip: u32) -> Self {
        Tracker {
            patience,
            blip,
            streak: None,
        }
    }

    fn update(&mut self, epoch: u64, bad: bool, value: f64) -> Update {
        match (&mut self.streak, bad) {
            (None, false) => Update::Nothing,
            (None, true) => {
                self.streak = Some(Streak {
                    onset: epoch,
                    bad: 0,
                    gap: 0,
                    healthy: 0,
                    fired: false,
                    worst: value,
                });
                self.update_bad(value)
            }
            (Some(_), true) => self.update_bad(value),
            (Some(s), false) => {
                s.gap += 1;
                s.healthy += 1;
                // Alternating good/bad epochs is this scheme's normal see-saw, not a streak.
                if s.gap <= self.blip && s.healthy * 2 <= s.bad {
                    return Update::Nothing;
                }
                let (fired, end) = (s.fired, epoch + 1 - u64::from(s.gap));
                self.streak = None;
                if fired {
                    Update::Ended(end)
                } else {
                    Update::Nothing
                }
            }
        }
    }

    fn update_bad(&mut self, value: f64) -> Update {
        let s = self.streak.as_mut().expect("streak started");
        s.bad += 1;
        s.gap = 0;
        s.worst = s.worst.max(value);
        if !s.fired && s.bad >= self.patience {
            s.fired = true;
            Update::Fired
        } else {
            Update::Nothing
        }
    }
}

/// Verdicts that fired and episodes that ended in one epoch (replay needs both).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Step {
    pub fired: Vec<Verdict>,
    pub ended: Vec<(Kind, u64)>,
}

/// Watches one run. Pure: feed it every finished epoch in order; `reset` after a rollback.
#[derive(Debug, Clone)]
pub struct Detector {
    cfg: RollbackConfig,
    reference: Option<RealReference>,
    /// Indexed like `Kind::ALL`.
    trackers: [Tracker; 4],
}

impl Detector {
    pub fn new(cfg: &RollbackConfig, reference: Option<RealReference>) -> Self {
        let streaky = || Tracker::new(cfg.patience, cfg.blip_tolerance);
        Detector {
            cfg: cfg.clone(),
            reference,
            trackers: [
                // Any NaN is fatal at once, and one finite epoch ends the episode.
                Tracker::new(1, 0),
                Tracker::new(cfg.degenerate_patience, cfg.blip_tolerance),
                streaky(),
                streaky(),
            ],
        }
    }

    /// The most urgent verdict this epoch raised, if any (see `Kind`'s order).
    pub fn observe(&mut self, s: &EpochStats) -> Option<Verdict> {
        self.step(s).fired.into_iter().next()
    }

    /// True when no bad streak is in progress: a checkpoint saved now is a safe restore point.
    pub fn is_healthy(&self) -> bool {
        self.trackers.iter().all(|t| t.streak.is_none())
    }

    /// Forget all streaks, e.g. after restoring a checkpoint.
    pub fn reset(&mut self) {
        for t in &mut self.trackers {
            t.streak = None;
        }
    }

    pub(super) fn step(&mut self, s: &EpochStats) -> Step {
        let warm = s.epoch >= self.cfg.warmup_epochs;
        let eps = self.cfg.eps;
        let (min_sample_std, min_image_std) = self.degenerate_thresholds();
        let low_sample = s.sample_std.is_some_and(|v| v < min_sample_std);
        let low_image = s.sample_image_std.is_some_and(|v| v < min_image_std);
        // (bad, value recorded as the streak's worst) per kind, in `Kind::ALL` order.
        let checks = [
            (s.non_finite, 0.0),
            (
                warm && (low_sample || low_image),
                s.sample_std
                    .unwrap_or(0.0)
                    .max(s.sample_image_std.unwrap_or(0.0)),
            ),
            (
                warm && s.d_acc_fake <= eps && s.g_acc >= 1.0 - eps,
                s.d_acc_fake,
            ),
            (warm && s.g_acc <= eps, s.g_acc),
        ];
        let mut step = Step::default();
        for ((kind, tracker), (bad, value)) in
            Kind::ALL.into_iter().zip(&mut self.trackers).zip(checks)
        {
            match tracker.update(s.epoch, bad, value) {
                Update::Nothing => {}
                Update::Ended(end) => step.ended.push((kind, end)),
                Update::Fired => {
                    let streak = tracker.streak.as_ref().expect("fired streak is live");
                    step.fired.push(Verdict {
                        kind,
                        onset_epoch: streak.onset,
                        detected_epoch: s.epoch,
                        evidence: evidence(kind, eps, streak, s, (min_sample_std, min_image_std)),
                    });
                }
            }
        }
        step
    }

    /// Below these, samples count as degenerate: a fraction of the real data's spread if known.
    fn degenerate_thresholds(&self) -> (f64, f64) {
        match self.reference {
            Some(r) => (
                self.cfg.degenerate_std_ratio * r.sample_std,
                self.cfg.degenerate_std_ratio * r.image_std,
            ),
            None => (
                self.cfg.degenerate_min_sample_std,
                self.cfg.degenerate_min_image_std,
            ),
        }
    }
}

/// One sentence with the numbers behind a verdict.
fn evidence(kind: Kind, eps: f64, st: &Streak, s: &EpochStats, mins: (f64, f64)) -> String {
    let (min_sample, min_image) = mins;
    let of = format!(
        "for {} of the last {} epochs",
        st.bad,
        s.epoch - st.onset + 1
    );
    match kind {
        Kind::NonFinite => format!("non-finite loss or weight at epoch {}", s.epoch),
        Kind::GFailure => format!("g_acc <= {eps} {of} (max {:.4})", st.worst),
        Kind::DFooled => format!(
            "d_acc_fake <= {eps} and g_acc >= {} {of} (max d_acc_fake {:.4})",
            1.0 - eps,
            st.worst
        ),
        Kind::DegenerateOutput => format!(
            "samples degenerate {of} (now sample_std {} vs min {min_sample:.3}, image_std {} vs min {min_image:.3})",
            fmt_opt(s.sample_std),
            fmt_opt(s.sample_image_std)
        ),
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3}"))
}
