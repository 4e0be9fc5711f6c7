//! Collapse detector: turns a stream of epoch stats into verdicts once a bad streak is sustained.

use super::config::RollbackConfig;
use super::kind::{Kind, Verdict};
use super::stats::{EpochStats, RealReference};

/// Images per epoch assumed for logs that do not say (replay): the original's 13,000.
pub const REPLAY_EPOCH_IMAGES: u64 = 13_000;

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

/// The thresholds in force for one epoch, derived from the config, the label noise and the
/// real data (reported in the evidence).
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Accuracy "near 0": noise / 2 + eps (the mean of a fake target U(0, noise), plus eps).
    low: f64,
    /// Accuracy "near 1": 1 - noise / 2 - eps.
    high: f64,
    min_sample_std: f64,
    min_image_std: f64,
    /// image_std above this: saturated noise (infinite without a real-data reference).
    max_image_std: f64,
    /// sample_nn below this: near-copies (`mode_collapse_ratio`).
    min_nn: f64,
    /// swd above this is a regression: best x (1 + quality_margin).
    max_swd: Option<f64>,
}

/// The quality figures' say on an accuracy-based streak.
enum Judged {
    Fire,
    Improving,
    Wait,
}

/// Watches one run. Pure: feed it every finished epoch in order; `reset` after a rollback.
#[derive(Debug, Clone)]
pub struct Detector {
    cfg: RollbackConfig,
    reference: Option<RealReference>,
    /// Training images per epoch, for the warm-up (`warmup_images`).
    epoch_images: u64,
    /// Indexed like `Kind::ALL`.
    trackers: [Tracker; 6],
    /// Lowest swd of this attempt and the epoch it was measured.
    best_swd: Option<(f64, u64)>,
    /// Epoch at which swd last beat an earlier best (the samples were getting better).
    improved_at: Option<u64>,
    /// Epoch at which swd last failed to beat an earlier best (the samples were not).
    stalled_at: Option<u64>,
    /// Highest sample_std, sample_image_std and sample_nn of this attempt so far.
    peaks: [f64; 3],
    /// The last epoch was bad for some kind (a checkpoint saved now is no restore point).
    last_bad: bool,
    /// The last epoch was past the warm-up.
    warm: bool,
    /// The last epoch's samples were as varied as a restore point's must be (see `step`).
    last_varied: bool,
}

impl Detector {
    /// `epoch_images`: training images per epoch (the training set's size; replay passes
    /// `REPLAY_EPOCH_IMAGES`).
    pub fn new(cfg: &RollbackConfig, reference: Option<RealReference>, epoch_images: u64) -> Self {
        let streaky = || Tracker::new(cfg.patience, cfg.blip_tolerance);
        let sampled = || Tracker::new(cfg.degenerate_patience, cfg.blip_tolerance);
        Detector {
            cfg: cfg.clone(),
            reference,
            epoch_images: epoch_images.max(1),
            trackers: [
                // Any NaN is fatal at once, and one finite epoch ends the episode.
                Tracker::new(1, 0),
                sampled(),
                sampled(),
                streaky(),
                streaky(),
                // Counted in evaluations: epochs without swd leave it alone.
                Tracker::new(cfg.quality_patience, 0),
            ],
            best_swd: None,
            improved_at: None,
            stalled_at: None,
            peaks: [0.0; 3],
            last_bad: false,
            warm: false,
            last_varied: false,
        }
    }

    /// The most urgent verdict this epoch raised, if any (see `Kind`'s order).
    pub fn observe(&mut self, s: &EpochStats) -> Option<Verdict> {
        self.step(s).fired.into_iter().next()
    }

    /// True when no bad streak is in progress.
    pub fn is_healthy(&self) -> bool {
        self.trackers.iter().all(|t| t.streak.is_none())
    }

    /// A checkpoint saved now is a safe restore point: past the warm-up (so its samples were
    /// judged), no streak in progress, the last epoch not bad for any kind, and its samples not
    /// low against the real data on any figure. The last condition matters while a low figure
    /// is not yet bad (the grace of `degenerate_drop_ratio`): near-copies that never were varied
    /// are no state to go back to.
    pub fn is_restore_point(&self) -> bool {
        self.warm && self.is_healthy() && !self.last_bad && self.last_varied
    }

    /// Forget all streaks and the best swd, e.g. after restoring a checkpoint: the new
    /// attempt is judged on its own (a resumed run replays only its rows).
    pub fn reset(&mut self) {
        for t in &mut self.trackers {
            t.streak = None;
        }
        self.last_bad = false;
        self.last_varied = false;
        self.best_swd = None;
        self.improved_at = None;
        self.stalled_at = None;
        self.peaks = [0.0; 3];
    }

    pub(super) fn step(&mut self, s: &EpochStats) -> Step {
        let images = s.epoch.saturating_mul(self.epoch_images);
        let warm = images >= self.cfg.warmup_images;
        // Samples still not varied after twice the warm-up collapsed from the start.
        let grace_over = images >= self.cfg.warmup_images.saturating_mul(2);
        self.warm = warm;
        let lim = self.limits(s);
        let non_finite = s.any_non_finite();
        let finite = |v: Option<f64>| v.filter(|x| x.is_finite());
        let figures = [s.sample_std, s.sample_image_std, s.sample_nn].map(finite);
        // A new peak this epoch: the samples are still getting more varied.
        let mut rose = [false; 3];
        for ((peak, v), rose) in self.peaks.iter_mut().zip(figures).zip(&mut rose) {
            let v = v.unwrap_or(0.0);
            *rose = v > *peak;
            *peak = peak.max(v);
        }
        let drop = self.cfg.degenerate_drop_ratio;
        let fell = |i: usize, min: f64| {
            figures[i].is_some_and(|v| {
                let p = self.peaks[i];
                // It worked, then broke: once as varied as the data asks, now low and fallen
                // from that peak. An untrained G's first, noisier samples are no such level.
                let broke = p >= min && v < drop * p;
                // Collapsed from the start: still low after twice the warm-up, and no longer
                // improving (a slow dataset still climbing towards the data is learning).
                let stuck = grace_over && !rose[i];
                v < min && (broke || stuck)
            })
        };
        let low_sample = fell(0, lim.min_sample_std);
        let low_image =
            fell(1, lim.min_image_std) || figures[1].is_some_and(|v| v > lim.max_image_std);
        let copies = fell(2, lim.min_nn);
        // Absent figures (replayed logs) do not count against a restore point.
        let at_least = |i: usize, min: f64| figures[i].is_none_or(|v| v >= min);
        self.last_varied = !non_finite
            && at_least(0, lim.min_sample_std)
            && at_least(1, lim.min_image_std)
            && figures[1].is_none_or(|v| v <= lim.max_image_std)
            && at_least(2, lim.min_nn);
        let swd = finite(s.swd);
        let regressed = match (swd, lim.max_swd) {
            (Some(v), Some(max)) => Some(v > max),
            (Some(_), None) => Some(false),
            (None, _) => None,
        };
        let judged = warm && !non_finite;
        // (bad, value recorded as the streak's worst) per kind, in `Kind::ALL` order; None
        // leaves that kind's streak alone this epoch.
        let checks = [
            Some((non_finite, 0.0)),
            Some((
                judged && (low_sample || low_image),
                s.sample_std
                    .unwrap_or(0.0)
                    .max(s.sample_image_std.unwrap_or(0.0)),
            )),
            Some((judged && copies, s.sample_nn.unwrap_or(0.0))),
            Some((
                judged && s.d_acc_fake <= lim.low && s.g_acc >= lim.high,
                s.d_acc_fake,
            )),
            Some((judged && s.g_acc <= lim.low, s.g_acc)),
            regressed.map(|r| (judged && r, swd.unwrap_or(0.0))),
        ];
        self.last_bad = checks.iter().flatten().any(|(bad, _)| *bad);
        // After `lim` (which compares with the best before this epoch), before the streaks.
        if let Some(v) = swd.filter(|_| !non_finite) {
            match self.best_swd {
                None => self.best_swd = Some((v, s.epoch)),
                Some((b, _)) if v < b => {
                    self.best_swd = Some((v, s.epoch));
                    self.improved_at = Some(s.epoch);
                }
                Some(_) => self.stalled_at = Some(s.epoch),
            }
        }
        let mut step = Step::default();
        for (i, (kind, check)) in Kind::ALL.into_iter().zip(checks).enumerate() {
            let Some((bad, value)) = check else { continue };
            match self.trackers[i].update(s.epoch, bad, value) {
                Update::Nothing => {}
                Update::Ended(end) => step.ended.push((kind, end)),
                Update::Fired => {
                    let streak = self.trackers[i]
                        .streak
                        .clone()
                        .expect("fired streak is live");
                    match self.quality_says(kind, streak.onset) {
                        Judged::Fire => {}
                        // A confident D while the samples get better is not a failed G.
                        Judged::Improving => {
                            self.trackers[i].streak = None;
                            continue;
                        }
                        // No evaluation since the onset compared with an earlier one yet.
                        Judged::Wait => {
                            if let Some(st) = self.trackers[i].streak.as_mut() {
                                st.fired = false;
                            }
                            continue;
                        }
                    }
                    step.fired.push(Verdict {
                        kind,
                        onset_epoch: streak.onset,
                        detected_epoch: s.epoch,
                        evidence: evidence(kind, &lim, &streak, s, self.best_swd),
                    });
                }
            }
        }
        step
    }

    /// What the quality figures say about an accuracy-based streak: when the run is evaluated
    /// at all, it fires only once an evaluation since the onset failed to beat an earlier best,
    /// and is dropped when one beat it. Runs without swd (replayed logs) fire on accuracies.
    fn quality_says(&self, kind: Kind, onset: u64) -> Judged {
        let since = |at: Option<u64>| at.is_some_and(|epoch| epoch >= onset);
        if !matches!(kind, Kind::GFailure | Kind::DFooled) || self.best_swd.is_none() {
            Judged::Fire
        } else if since(self.improved_at) {
            Judged::Improving
        } else if since(self.stalled_at) {
            Judged::Fire
        } else {
            Judged::Wait
        }
    }

    fn limits(&self, s: &EpochStats) -> Limits {
        let half_noise = s.label_noise.filter(|n| n.is_finite()).unwrap_or(0.0) / 2.0;
        let (min_sample_std, min_image_std, max_image_std) = match self.reference {
            Some(r) => (
                self.cfg.degenerate_std_ratio * r.sample_std,
                self.cfg.degenerate_std_ratio * r.image_std,
                self.cfg.saturation_ratio * r.image_std,
            ),
            None => (
                self.cfg.degenerate_min_sample_std,
                self.cfg.degenerate_min_image_std,
                f64::INFINITY,
            ),
        };
        Limits {
            low: half_noise + self.cfg.eps,
            high: 1.0 - half_noise - self.cfg.eps,
            min_sample_std,
            min_image_std,
            max_image_std,
            min_nn: self.cfg.mode_collapse_ratio,
            max_swd: self
                .best_swd
                .map(|(b, _)| b * (1.0 + self.cfg.quality_margin)),
        }
    }
}

/// One sentence with the numbers behind a verdict.
fn evidence(
    kind: Kind,
    lim: &Limits,
    st: &Streak,
    s: &EpochStats,
    best_swd: Option<(f64, u64)>,
) -> String {
    let span = s.epoch - st.onset + 1;
    let of = format!("for {} of the last {span} epochs", st.bad);
    let (low, high) = (tidy(lim.low), tidy(lim.high));
    match kind {
        Kind::NonFinite => format!("non-finite loss, weight or figure at epoch {}", s.epoch),
        Kind::GFailure => format!("g_acc <= {low} {of} (max {:.4})", st.worst),
        Kind::DFooled => format!(
            "d_acc_fake <= {low} and g_acc >= {high} {of} (max d_acc_fake {:.4})",
            st.worst
        ),
        Kind::DegenerateOutput => format!(
            "samples alike, flat or saturated {of} (now sample_std {} vs min {:.3}, image_std {} vs {:.3}..{:.3})",
            fmt_opt(s.sample_std),
            lim.min_sample_std,
            fmt_opt(s.sample_image_std),
            lim.min_image_std,
            lim.max_image_std
        ),
        Kind::ModeCollapse => format!(
            "samples come in near-copies {of} (now sample_nn {} vs min {}; real images 1)",
            fmt_opt(s.sample_nn),
            lim.min_nn
        ),
        Kind::QualityRegression => {
            let (best, at) = best_swd.unwrap_or((f64::NAN, 0));
            format!(
                "swd above {:.1} (best {best:.1} at epoch {at}) for {} evaluations in a row (now {})",
                lim.max_swd.unwrap_or(f64::NAN),
                st.bad,
                fmt_opt(s.swd)
            )
        }
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3}"))
}

/// Rounds to 6 decimals for messages: 0.05 + 0.02 reads 0.07.
fn tidy(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
