//! The decision at one rung: go on, or stop because too many peers are ahead.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{PruneConfig, Rung};

/// A variant's figure at a rung: the best so far of the metric (lower is better), or `Worst`
/// for a variant that collapsed before the rung (it counts as the worst at every rung it did
/// not reach) or whose evaluations gave no finite value. In JSON: the number, or `"worst"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(into = "FigureJson", try_from = "FigureJson")]
pub enum Figure {
    Value(f64),
    Worst,
}

impl Figure {
    /// `x` as a figure; a non-finite value (a broken evaluation) ranks as the worst.
    pub fn new(x: f64) -> Figure {
        if x.is_finite() {
            Figure::Value(x)
        } else {
            Figure::Worst
        }
    }

    /// Better first: lower values, then `Worst`. A total order.
    pub fn rank_cmp(&self, other: &Figure) -> Ordering {
        match (self, other) {
            (Figure::Value(a), Figure::Value(b)) => a.total_cmp(b),
            (Figure::Value(_), Figure::Worst) => Ordering::Less,
            (Figure::Worst, Figure::Value(_)) => Ordering::Greater,
            (Figure::Worst, Figure::Worst) => Ordering::Equal,
        }
    }

    fn is_better_than(&self, other: &Figure) -> bool {
        self.rank_cmp(other) == Ordering::Less
    }
}

/// How a `Figure` is written: a number, or the word `worst`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum FigureJson {
    Value(f64),
    Word(String),
}

impl From<Figure> for FigureJson {
    fn from(f: Figure) -> Self {
        match f {
            Figure::Value(x) => FigureJson::Value(x),
            Figure::Worst => FigureJson::Word("worst".into()),
        }
    }
}

impl TryFrom<FigureJson> for Figure {
    type Error = String;

    fn try_from(j: FigureJson) -> Result<Self, String> {
        match j {
            FigureJson::Value(x) => Ok(Figure::new(x)),
            FigureJson::Word(w) if w == "worst" => Ok(Figure::Worst),
            FigureJson::Word(w) => Err(format!("{w:?} is no figure: a number or \"worst\"")),
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Figure::Value(x) => f.write_str(&crate::digits::four(*x)),
            Figure::Worst => f.write_str("worst"),
        }
    }
}

/// The best so far of a variant's evaluations (`(epoch, value)`, in any order) through epoch
/// `through`: the lowest finite value; `Worst` when evaluations ran but none was finite; `None`
/// when none ran by then (the variant is not judged yet: see `rungs::due`).
pub fn best_so_far(evaluations: &[(u32, f64)], through: u32) -> Option<Figure> {
    let mut seen = false;
    let mut best: Option<f64> = None;
    for &(epoch, value) in evaluations {
        if epoch > through {
            continue;
        }
        seen = true;
        if value.is_finite() && best.is_none_or(|b| value < b) {
            best = Some(value);
        }
    }
    match best {
        Some(x) => Some(Figure::Value(x)),
        None if seen => Some(Figure::Worst),
        None => None,
    }
}

/// Where a variant stood among the variants judged at a rung (itself included).
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub rung: Rung,
    /// The variant's own figure.
    pub figure: Figure,
    /// 1 + the number of peers strictly better (ties go to the variant being judged).
    pub place: usize,
    /// The variant and its peers.
    pub entrants: usize,
    /// Places that go on: `ceil(entrants / eta)`, at least 1.
    pub places: usize,
    /// The figure at the last place that goes on: what a variant had to match.
    pub cutoff: Figure,
}

/// What happens to a variant at a rung. Every decision is final: a variant kept at a rung is
/// never judged there again, however many peers arrive later (asynchronous: nobody waits).
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Fewer than `min_peers` peers had a figure at the rung: too early to rank; goes on.
    KeepFewPeers {
        rung: Rung,
        figure: Figure,
        peers: usize,
    },
    /// Within the best 1/eta: goes on to the next rung.
    Keep(Standing),
    /// Behind: stops here.
    Stop(Standing),
}

impl Decision {
    pub fn is_stop(&self) -> bool {
        matches!(self, Decision::Stop(_))
    }
}

/// ASHA's rule at one rung, in its stopping form (Li et al. 2020, section 3; Ray Tune's
/// `AsyncHyperBandScheduler`): compared with the `peers` (every other variant with a figure at
/// this rung, collapsed ones as `Worst`), the variant goes on when its place is within
/// `ceil(n / eta)` of the n entrants, and stops otherwise. With fewer than `min_peers` peers
/// nobody is stopped.
pub fn decide(rule: &PruneConfig, rung: Rung, mine: Figure, peers: &[Figure]) -> Decision {
    if peers.len() < rule.min_peers as usize {
        return Decision::KeepFewPeers {
            rung,
            figure: mine,
            peers: peers.len(),
        };
    }
    let entrants = peers.len() + 1;
    let places = entrants.div_ceil(rule.eta.max(1) as usize).max(1);
    let place = 1 + peers.iter().filter(|p| p.is_better_than(&mine)).count();
    let mut all: Vec<Figure> = peers.to_vec();
    all.push(mine);
    all.sort_by(Figure::rank_cmp);
    let standing = Standing {
        rung,
        figure: mine,
        place,
        entrants,
        places,
        cutoff: all[places - 1],
    };
    if place <= places {
        Decision::Keep(standing)
    } else {
        Decision::Stop(standing)
    }
}

/// Whether `decide` would stop or keep the variant the same way whatever `unknown` more
/// variants had at the rung: each of them may have been there or not, with any figure (a
/// replay over rows that end before the rung cannot tell). Fewer of them present, or more,
/// better or worse, moves the variant's place and the places that go on; the decision holds
/// when it is the same for every count of them present, all better or all worse (more better
/// ones never help it, more worse ones never hurt it, whatever min_peers lets through).
pub fn holds_whatever(
    rule: &PruneConfig,
    rung: Rung,
    mine: Figure,
    peers: &[Figure],
    unknown: usize,
) -> bool {
    let stop = decide(rule, rung, mine, peers).is_stop();
    let with = |extra: Figure, count: usize| {
        let mut all = peers.to_vec();
        all.extend(std::iter::repeat_n(extra, count));
        decide(rule, rung, mine, &all).is_stop()
    };
    // Strictly better than any figure a variant can have: `best_so_far` gives finite values.
    let better = Figure::Value(f64::NEG_INFINITY);
    (1..=unknown).all(|n| with(better, n) == stop && with(Figure::Worst, n) == stop)
}

/// Whether a variant could be stopped at `rung` with at most `peers` other variants there,
/// whatever their figures and its own: with all of them there and ahead of it. False when
/// fewer than `min_peers` can be there, or `eta` lets every place they leave go on.
pub fn could_stop(rule: &PruneConfig, rung: Rung, peers: usize) -> bool {
    let ahead = vec![Figure::Value(f64::NEG_INFINITY); peers];
    decide(rule, rung, Figure::Worst, &ahead).is_stop()
}
