//! The replay's totals over every variant: the training images the sweep recorded, what it
//! costs without `[prune]`, what the rule trains of it at least and at most, the variants the
//! replay lost track of, what became of the variant that finished best, and the best variant
//! the rule lets finish.

use serde::Serialize;

use super::end::Replayed;
use super::judge::Unknown;
use crate::results::{RunState, RungRecord};

/// The replay's totals: training images recorded, what the sweep costs without `[prune]`, what
/// the rule trains of it, and what became of the variant that finished best (lowest final
/// figure among those the sweep finished).
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub images_recorded: f64,
    /// What the sweep costs without `[prune]`: the base of every share and of what is saved.
    pub images_budget: f64,
    /// The variants whose part of `images_budget` counts their planned epochs past their rows
    /// (at the pace of their rows; a collapse there would cost less, a rollback more).
    pub budget_past_rows: Vec<String>,
    /// What the rule trains: at least and at most (the same unless some variant is `unknown`).
    pub images_replayed_min: f64,
    pub images_replayed_max: f64,
    /// The variants the replay lost track of (`Replayed::unknown`).
    pub unknown: Vec<String>,
    pub best: Option<Best>,
    /// The best variant the rule lets finish; none where it would train a variant past its
    /// rows (that variant's final figure is not known) or lets none finish.
    pub best_kept: Option<Kept>,
}

/// The best variant a rule lets finish: the lowest final figure (the rule's metric) among the
/// variants it trains to the budget. Set beside the winner's, the quality the rule costs.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub id: String,
    pub final_figure: f64,
}

/// The variant that finished best: its final figure (the rule's metric) and what the rule
/// does to it.
#[derive(Debug, Clone, Serialize)]
pub struct Best {
    pub id: String,
    pub final_figure: f64,
    #[serde(flatten)]
    pub fate: Fate,
}

/// What the rule does to the variant that finished best. In JSON, `"fate"`: `"survives"`,
/// `"stopped"` (with `"at"`, the decision), `"unknown"` (with `"unknown"`, why).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "fate", rename_all = "snake_case")]
pub enum Fate {
    Survives,
    Stopped { at: RungRecord },
    Unknown { unknown: Unknown },
}

/// The totals of `replayed`: its sums, the variants lost track of and the winner's fate.
pub fn totals(replayed: &[Replayed]) -> Totals {
    let ids = |keep: &dyn Fn(&Replayed) -> bool| -> Vec<String> {
        replayed
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.id.clone())
            .collect()
    };
    let sum = |of: &dyn Fn(&Replayed) -> f64| -> f64 { replayed.iter().map(of).sum() };
    Totals {
        images_recorded: sum(&|r| r.images_recorded),
        images_budget: sum(&|r| r.images_budget),
        budget_past_rows: ids(&|r| r.budget_past_rows),
        images_replayed_min: sum(&|r| r.images_replayed_min),
        images_replayed_max: sum(&|r| r.images_replayed_max),
        unknown: ids(&|r| r.unknown.is_some()),
        best: best(replayed),
        best_kept: best_kept(replayed),
    }
}

/// The variant replayed `finished` with the lowest finite final figure, unless the rule trains
/// some variant past its rows.
fn best_kept(replayed: &[Replayed]) -> Option<Kept> {
    if replayed.iter().any(Replayed::outruns_rows) {
        return None;
    }
    replayed
        .iter()
        .filter(|r| r.replayed == RunState::Finished.word())
        .filter_map(|r| Some((r, r.final_figure.filter(|x| x.is_finite())?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(r, x)| Kept {
            id: r.id.clone(),
            final_figure: x,
        })
}

/// The variant the sweep finished with the lowest finite final figure, and its fate.
fn best(replayed: &[Replayed]) -> Option<Best> {
    let (r, x) = replayed
        .iter()
        .filter(|r| r.recorded == RunState::Finished.word())
        .filter_map(|r| Some((r, r.final_figure.filter(|x| x.is_finite())?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    let fate = match (r.stop(), &r.unknown) {
        (Some(s), _) => Fate::Stopped { at: s.clone() },
        (None, Some(u)) => Fate::Unknown { unknown: u.clone() },
        (None, None) => Fate::Survives,
    };
    Some(Best {
        id: r.id.clone(),
        final_figure: x,
        fate,
    })
}
