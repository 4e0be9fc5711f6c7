//! How each run ends under the replayed decisions (`Replayed`): stopped at a rung, as the sweep
//! left it, `unknown` from where its rows end before a rung that could stop it
//! (`prune::could_stop` with the variants that can still be there), or trained to its budget
//! where no rung can; with what that costs (`cost`).

use serde::Serialize;

use super::cost::{EpochImages, Images};
use super::judge::{Judged, Unknown};
use super::rows::{budget, ended_by_training, last_epoch, rows_end_why, truncated};
use crate::prune::{self, PruneConfig, Rung};
use crate::results::reader::Run;
use crate::results::{RunState, RungRecord};

/// One variant under the replayed rule.
#[derive(Debug, Clone, Serialize)]
pub struct Replayed {
    pub index: usize,
    pub id: String,
    /// How the sweep itself left it (finished, collapsed, ...).
    pub recorded: &'static str,
    /// How it would have ended: `pruned`, `unknown` (see `unknown`), or as recorded; a variant
    /// whose rows end early that no rung left can stop is `finished` (see `past_rows`).
    pub replayed: &'static str,
    /// The decisions the replay is sure of, at every rung it would have been judged at; a stop
    /// is the last.
    pub decisions: Vec<Judged>,
    /// Where the replay loses track of it: None when it knows how it ends.
    pub unknown: Option<Unknown>,
    /// A variant whose rows end before its budget that the rule trains to its budget: why, and
    /// that its figures past its rows are unknown.
    pub past_rows: Option<String>,
    /// Training images of every epoch the sweep trained it for.
    pub images_recorded: f64,
    /// What it costs without `[prune]`: its rows where it ended by its own training (finished,
    /// collapsed, stalled: it ends so under any rule), else its rows and then its planned
    /// epochs past them (`budget_past_rows`).
    pub images_budget: f64,
    pub budget_past_rows: bool,
    /// What the rule trains of it: at least and at most (the same unless `unknown`: at least
    /// through the next rung that could stop it, at most its budget).
    pub images_replayed_min: f64,
    pub images_replayed_max: f64,
    pub epochs_recorded: usize,
    pub epochs_replayed_min: usize,
    pub epochs_replayed_max: usize,
    /// The epochs its plan gives it: the rungs it can be judged at lie below.
    pub epochs_planned: u32,
    /// The last value of the rule's metric on its recorded kept timeline, wherever its rows end.
    pub last_figure: Option<EpochFigure>,
    /// Its final value of the rule's metric: only where the sweep ended it by its own training
    /// (finished, collapsed, stalled); None where its rows end before it.
    pub final_figure: Option<f64>,
}

/// A value of the rule's metric at an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochFigure {
    pub epoch: u32,
    pub value: f64,
}

impl Replayed {
    pub fn stop(&self) -> Option<&RungRecord> {
        self.decisions
            .last()
            .map(|d| &d.record)
            .filter(|d| d.is_stop())
    }

    /// Whether its rows end before how the rule ends it: it may end better than they show.
    pub fn outruns_rows(&self) -> bool {
        self.unknown.is_some() || self.past_rows.is_some()
    }
}

/// `Replayed::replayed` of a variant the replay lost track of.
pub const UNKNOWN: &str = "unknown";

/// What the replay settled for one run: its decisions, the one the unknown variants could
/// turn (if any), and how many others could be at a rung past them (`possible(rung epoch)`).
pub(super) struct End<'a> {
    pub(super) rule: &'a PruneConfig,
    pub(super) decisions: Vec<Judged>,
    pub(super) unsettled: Option<Unknown>,
    pub(super) possible: &'a dyn Fn(u32) -> usize,
    pub(super) given: &'a EpochImages,
}

/// How a run whose rows end before its budget goes on past them.
enum PastRows {
    /// A rung that could stop it lies ahead: unknown from there.
    Stoppable(Unknown),
    /// No rung left can stop it: it trains its budget (why).
    Budget(String),
}

impl End<'_> {
    /// `run` under the replayed decisions: how it ends and what it would have trained.
    pub(super) fn of(self, run: &Run) -> Replayed {
        let stop_step = self
            .decisions
            .last()
            .filter(|d| d.record.is_stop())
            .map(|d| d.record.step);
        let past = (stop_step.is_none() && self.unsettled.is_none() && truncated(run))
            .then(|| self.past_rows(run));
        let (unknown, past_rows) = match past {
            Some(PastRows::Stoppable(u)) => (Some(u), None),
            Some(PastRows::Budget(why)) => (None, Some(why)),
            None => (self.unsettled.clone(), None),
        };
        let images = Images::of(run, self.given);
        let (least, most) = images.replayed(stop_step, unknown.as_ref().map(|u| u.through));
        let last_figure = last_figure(run, self.rule);
        Replayed {
            index: run.index,
            id: run.id.clone(),
            recorded: run.state.word(),
            replayed: match (stop_step, &unknown, &past_rows) {
                (Some(_), _, _) => RunState::Pruned.word(),
                (None, Some(_), _) => UNKNOWN,
                (None, None, Some(_)) => RunState::Finished.word(),
                (None, None, None) => run.state.word(),
            },
            decisions: self.decisions,
            unknown,
            past_rows,
            images_recorded: images.recorded.0,
            images_budget: images.full.0,
            budget_past_rows: truncated(run),
            images_replayed_min: least.0,
            images_replayed_max: most.0,
            epochs_recorded: images.recorded.1,
            epochs_replayed_min: least.1,
            epochs_replayed_max: most.1,
            epochs_planned: budget(run),
            last_figure,
            final_figure: ended_by_training(run)
                .then_some(last_figure)
                .flatten()
                .map(|f| f.value),
        }
    }

    /// Past `run`'s rows: the first rung after its decisions that could stop it, or none.
    fn past_rows(&self, run: &Run) -> PastRows {
        let after = self.decisions.last().map_or(0, |d| d.record.rung_epoch);
        let left: Vec<Rung> = prune::rungs(self.rule, budget(run))
            .into_iter()
            .filter(|r| r.epoch > after)
            .collect();
        if let Some(&rung) = left
            .iter()
            .find(|r| prune::could_stop(self.rule, **r, (self.possible)(r.epoch)))
        {
            return PastRows::Stoppable(Unknown::outlived(run, rung));
        }
        let rows = format!(
            "its rows end at epoch {} ({})",
            last_epoch(run),
            rows_end_why(run.state)
        );
        let why = match left.iter().map(|r| (self.possible)(r.epoch)).max() {
            None => "no rung is left before its budget".to_string(),
            Some(n) => format!(
                "at most {n} other variant(s) can be at its {} rung(s) left, too few to stop it \
                 (min_peers {}, eta {})",
                left.len(),
                self.rule.min_peers,
                self.rule.eta
            ),
        };
        PastRows::Budget(format!(
            "{rows}; {why}: it trains its budget, its figures past epoch {} unknown",
            last_epoch(run)
        ))
    }
}

/// The last value of `rule`'s metric on `run`'s kept timeline.
fn last_figure(run: &Run, rule: &PruneConfig) -> Option<EpochFigure> {
    run.kept()
        .filter_map(|r| {
            Some(EpochFigure {
                epoch: r.epoch,
                value: r.figure(rule.metric)?,
            })
        })
        .last()
}
