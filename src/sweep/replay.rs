//! What a `[prune]` rule would have done to a sweep that trained without it (or with another
//! rule), from its metrics alone (no training; reads only). Each variant is judged by the same
//! functions a live sweep uses (`prune::judged_at`, `best_so_far`, `decide`), from its metrics as
//! they stood at each evaluation (rows a later rollback abandoned still count until that
//! rollback; an evaluation rolled back or stopped at once judges nothing):
//! - `replay`: as `run --jobs 1` trains them, rung by rung (`sweep::rungwise`): at each rung
//!   every variant that reached it is judged against all the others there;
//! - `replay_in_order`: as variants arriving one after another are judged (ASHA, what
//!   `--jobs N` and Slurm array tasks do), each against the variants before it.
//!
//! A variant whose rows end before the rule would stop it (pruned live by a stricter rule,
//! unfinished, not started) cannot be followed past them: it is `Unknown` from there, the
//! others are judged without it only where the decision holds whatever it had
//! (`prune::holds_whatever`), and a decision it could turn makes that variant `Unknown` too.

use std::collections::HashMap;

use serde::Serialize;

use crate::prune::{self, Figure, PruneConfig, Rung};
use crate::results::reader::Run;
use crate::results::{
    EventRow, MetricsRow, PeerFigure, PeerSource, RunState, RungRecord, Taken, abandoned,
    ended_early,
};

/// Training images of one epoch of the variants without rows to measure it from (from their
/// config and data), by id; the others' are measured from their rows.
pub type EpochImages = HashMap<String, f64>;

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

/// A decision the replay is sure of.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    #[serde(flatten)]
    pub record: RungRecord,
    /// Variants that may have been at the rung with a figure the replay cannot know (their rows
    /// end before it, or an earlier decision of theirs is unknown): not among the record's
    /// peers, place and entrants; the decision is the same whatever they had there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_peers: Vec<String>,
}

/// Where the replay loses track of a variant: its rows end before a rung that could stop it
/// (pruned live by another rule, unfinished, failed), or a decision of it could go either way
/// with the figures the replay cannot know.
#[derive(Debug, Clone, Serialize)]
pub struct Unknown {
    /// The epoch it trains to at least: the next rung that could stop it (where its rows end
    /// before it), or the evaluation of the decision that could go either way.
    pub epoch: u32,
    pub why: String,
    #[serde(skip)]
    through: Through,
}

/// How far the rule trains a variant at least, for its images.
#[derive(Debug, Clone, Copy)]
enum Through {
    /// Its rows through this metrics.csv step.
    Step(u64),
    /// All its rows, then this many epochs past them.
    PastRows(u32),
}

impl Unknown {
    /// `run`'s rows end before `rung`, the next that could stop it.
    fn outlived(run: &Run, rung: Rung) -> Unknown {
        let last = last_epoch(run);
        let rows = match run.kept().last() {
            Some(_) => format!("its rows end at epoch {last}"),
            None => "it has no rows".to_string(),
        };
        let epoch = rung.epoch.max(last);
        Unknown {
            epoch,
            why: format!(
                "{rows} ({}); the replayed rule would train it further, to rung {} (epoch {}) \
                 at least, where it could be stopped: unknown from there",
                rows_end_why(run.state),
                rung.index + 1,
                rung.epoch
            ),
            through: Through::PastRows(epoch - last),
        }
    }

    /// The decision at `point` is not the same whatever the `unknown` variants had there.
    fn unsettled(point: &Arrival, unknown: &[String]) -> Unknown {
        Unknown {
            epoch: point.judged.0,
            why: format!(
                "at rung {} (epoch {}) it is stopped or not depending on {} variant(s) whose \
                 figure there is unknown ({}): unknown from here",
                point.rung.index + 1,
                point.rung.epoch,
                unknown.len(),
                unknown.join(", ")
            ),
            through: Through::Step(point.judged.1),
        }
    }
}

/// Why the rows of a run in `state` end before its budget.
fn rows_end_why(state: RunState) -> &'static str {
    match state {
        RunState::Pruned => "pruned live by the recorded rule",
        RunState::Running => "still running",
        RunState::Interrupted => "interrupted",
        RunState::Waiting => "waiting at a rung",
        RunState::Failed => "failed",
        RunState::NotStarted => "not started",
        RunState::Finished | RunState::Collapsed | RunState::Stalled => "ended",
    }
}

/// The last epoch of `run`'s kept rows (0 without rows).
fn last_epoch(run: &Run) -> u32 {
    run.kept().last().map_or(0, |r| r.epoch)
}

/// Whether `run`'s rows end before its budget for a reason other than its own training's end
/// (a collapse or stall ends it under any rule; a finished run trained the budget it had):
/// past them the replay cannot follow it.
fn truncated(run: &Run) -> bool {
    !ended_by_training(run) && last_epoch(run) < budget(run)
}

fn ended_by_training(run: &Run) -> bool {
    matches!(
        run.state,
        RunState::Finished | RunState::Collapsed | RunState::Stalled
    )
}

/// The replay of `rule` over `runs` as `run --jobs 1` trains them: in index order, rung by rung
/// when there is more than one (`sweep::rungwise::applies`).
pub fn replay(runs: &[&Run], rule: &PruneConfig, given: &EpochImages) -> Vec<Replayed> {
    let mut ordered: Vec<&Run> = runs.to_vec();
    ordered.sort_by_key(|r| r.index);
    if ordered.len() > 1 {
        replay_rungwise(&ordered, rule, given)
    } else {
        replay_in_order(&ordered, rule, given)
    }
}

/// The replay of `rule` over `runs` arriving in the order given: each is judged at a rung
/// against the decisions the replay gave the runs before it there.
pub fn replay_in_order(runs: &[&Run], rule: &PruneConfig, given: &EpochImages) -> Vec<Replayed> {
    let mut done: Vec<Replayed> = Vec::new();
    for run in runs {
        let mut decisions: Vec<Judged> = Vec::new();
        let mut lost = None;
        for point in arrivals(run, rule) {
            match point.judge(rule, field_before(&done, point.rung.epoch)) {
                Ok(judged) => {
                    let stop = judged.record.is_stop();
                    decisions.push(judged);
                    if stop {
                        break;
                    }
                }
                Err(unknown) => {
                    lost = Some(unknown);
                    break;
                }
            }
        }
        // Its peers: the variants before it not stopped before the rung.
        let possible = |epoch: u32| {
            done.iter()
                .filter(|b| b.stop().is_none_or(|s| s.rung_epoch >= epoch))
                .count()
        };
        let end = End {
            rule,
            decisions,
            unsettled: lost,
            possible: &possible,
            given,
        };
        done.push(end.of(run));
    }
    done
}

/// The replay of `rule` over `runs` (in index order) rung by rung: at each rung every run that
/// reached it, and was not stopped before, is judged against all the others that did (a run
/// that collapsed before the rung counts as the worst), as `sweep::rungwise` judges them live.
/// A run whose rows end before the rung (not stopped, not collapsed) is lost from there: the
/// others are judged without it, and a decision it could turn is lost too.
pub fn replay_rungwise(runs: &[&Run], rule: &PruneConfig, given: &EpochImages) -> Vec<Replayed> {
    let points: Vec<Vec<Arrival>> = runs.iter().map(|r| arrivals(r, rule)).collect();
    let mut decisions: Vec<Vec<Judged>> = vec![Vec::new(); runs.len()];
    let mut unsettled: Vec<Option<Unknown>> = vec![None; runs.len()];
    let mut gone = vec![false; runs.len()];
    let mut epochs: Vec<u32> = points.iter().flatten().map(|p| p.rung.epoch).collect();
    epochs.sort_unstable();
    epochs.dedup();
    for epoch in epochs {
        let alive: Vec<bool> = (0..runs.len())
            .map(|i| !gone[i] && unsettled[i].is_none() && !stopped(&decisions[i]))
            .collect();
        let here: Vec<Option<&Arrival>> = (0..runs.len())
            .map(|i| {
                let point = points[i].iter().find(|p| p.rung.epoch == epoch);
                point.filter(|_| alive[i])
            })
            .collect();
        for (i, run) in runs.iter().enumerate() {
            if alive[i] && here[i].is_none() && epoch < budget(run) && truncated(run) {
                gone[i] = true;
            }
        }
        let mut turned: Vec<(usize, Unknown)> = Vec::new();
        for (i, point) in here.iter().enumerate() {
            let Some(point) = point else { continue };
            let peers = (0..runs.len())
                .filter(|&j| j != i && alive[j])
                .filter_map(|j| match here[j] {
                    Some(p) => Some(PeerFigure {
                        id: runs[j].id.clone(),
                        figure: p.figure,
                        source: PeerSource::Rung,
                    }),
                    None => ended_early(runs[j].state.word()).map(|source| PeerFigure {
                        id: runs[j].id.clone(),
                        figure: Figure::Worst,
                        source,
                    }),
                })
                .collect();
            let unknown = (0..runs.len())
                .filter(|&j| j != i && (gone[j] || unsettled[j].is_some()))
                .filter(|&j| epoch < budget(runs[j]))
                .map(|j| runs[j].id.clone())
                .collect();
            match point.judge(rule, Field { peers, unknown }) {
                Ok(judged) => decisions[i].push(judged),
                Err(u) => turned.push((i, u)),
            }
        }
        for (i, u) in turned {
            unsettled[i] = Some(u);
        }
    }
    let ends: Vec<Replayed> = (0..runs.len())
        .map(|i| {
            // Its peers: every other variant not stopped before the rung.
            let possible = |epoch: u32| {
                (0..runs.len())
                    .filter(|&j| j != i && !stopped_before(&decisions[j], epoch))
                    .count()
            };
            let end = End {
                rule,
                decisions: decisions[i].clone(),
                unsettled: unsettled[i].clone(),
                possible: &possible,
                given,
            };
            end.of(runs[i])
        })
        .collect();
    ends
}

fn stopped(decisions: &[Judged]) -> bool {
    decisions.last().is_some_and(|d| d.record.is_stop())
}

fn stopped_before(decisions: &[Judged], epoch: u32) -> bool {
    decisions
        .last()
        .is_some_and(|d| d.record.is_stop() && d.record.rung_epoch < epoch)
}

fn budget(run: &Run) -> u32 {
    run.planned_epochs
        .or(run.status.as_ref().map(|s| s.epochs_planned))
        .unwrap_or_else(|| run.rows.iter().map(|r| r.epoch).max().unwrap_or(0))
}

/// Training images of one epoch of `run`: the mean of its rows, else what `given` says.
fn per_epoch(run: &Run, given: &EpochImages) -> f64 {
    let rows: Vec<f64> = run.kept().map(|r| r.images()).collect();
    if rows.is_empty() {
        given.get(&run.id).copied().unwrap_or(0.0)
    } else {
        rows.iter().sum::<f64>() / rows.len() as f64
    }
}

/// Where a run would be judged at a rung: the evaluation (epoch, step) and its figure there.
struct Arrival {
    rung: Rung,
    judged: (u32, u64),
    figure: Figure,
}

/// What the replay knows of the other variants at a rung: the figures of those there, and the
/// ids of those that may have been there with a figure it cannot know.
struct Field {
    peers: Vec<PeerFigure>,
    unknown: Vec<String>,
}

impl Arrival {
    /// The decision at the rung against `field`; Err where the unknown variants could turn it.
    fn judge(&self, rule: &PruneConfig, field: Field) -> Result<Judged, Unknown> {
        let figures: Vec<Figure> = field.peers.iter().map(|p| p.figure).collect();
        let unknown = field.unknown.len();
        if !prune::holds_whatever(rule, self.rung, self.figure, &figures, unknown) {
            return Err(Unknown::unsettled(self, &field.unknown));
        }
        let decision = prune::decide(rule, self.rung, self.figure, &figures);
        Ok(Judged {
            record: RungRecord::new(rule, self.judged, &decision, field.peers),
            unknown_peers: field.unknown,
        })
    }
}

/// Every rung `run` reaches, where it would first be judged there, in order: a rung judged in an
/// attempt a rollback abandoned is not judged again (that decision stands).
fn arrivals(run: &Run, rule: &PruneConfig) -> Vec<Arrival> {
    let rungs = prune::rungs(rule, budget(run));
    let mut out: Vec<Arrival> = Vec::new();
    for (j, row) in run.rows.iter().enumerate() {
        if row.figure(rule.metric).is_none() || acted_on(&run.events, row.step) {
            continue;
        }
        // The timeline as it stood at this evaluation: the rollbacks logged before it.
        let rows = &run.rows[..=j];
        let earlier: Vec<EventRow> = run
            .events
            .iter()
            .filter(|e| e.step < row.step)
            .cloned()
            .collect();
        let gone = abandoned(rows, &earlier);
        let evaluations: Vec<(u32, f64)> = rows
            .iter()
            .zip(&gone)
            .filter(|(_, a)| !**a)
            .filter_map(|(r, _)| Some((r.epoch, r.figure(rule.metric)?)))
            .collect();
        let evaluated: Vec<u32> = evaluations.iter().map(|e| e.0).collect();
        for &rung in prune::judged_at(&rungs, &evaluated, budget(run)) {
            if out.iter().any(|a| a.rung.epoch == rung.epoch) {
                continue;
            }
            out.push(Arrival {
                rung,
                judged: (row.epoch, row.step),
                figure: prune::best_so_far(&evaluations, row.epoch).unwrap_or(Figure::Worst),
            });
        }
    }
    out
}

/// What the replay settled for one run: its decisions, the one the unknown variants could
/// turn (if any), and how many others could be at a rung past them (`possible(rung epoch)`).
struct End<'a> {
    rule: &'a PruneConfig,
    decisions: Vec<Judged>,
    unsettled: Option<Unknown>,
    possible: &'a dyn Fn(u32) -> usize,
    given: &'a EpochImages,
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
    fn of(self, run: &Run) -> Replayed {
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
        let least = match (stop_step, &unknown) {
            (Some(step), _) => images.through(Through::Step(step)),
            (None, Some(u)) => images.through(u.through),
            (None, None) => images.full,
        };
        let most = if unknown.is_some() {
            images.full
        } else {
            least
        };
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

/// A run's training images and epochs (rows, abandoned ones included): what the sweep
/// trained, and its whole budget (past rows cut short, at the pace of its rows).
struct Images<'a> {
    run: &'a Run,
    per_epoch: f64,
    recorded: (f64, usize),
    full: (f64, usize),
}

impl<'a> Images<'a> {
    fn of(run: &'a Run, given: &EpochImages) -> Images<'a> {
        let per_epoch = per_epoch(run, given);
        let recorded = rows_through(run, u64::MAX);
        let left = if truncated(run) {
            budget(run) - last_epoch(run)
        } else {
            0
        };
        Images {
            run,
            per_epoch,
            recorded,
            full: past(recorded, left, per_epoch),
        }
    }

    fn through(&self, through: Through) -> (f64, usize) {
        match through {
            Through::Step(step) => rows_through(self.run, step),
            Through::PastRows(n) => past(self.recorded, n, self.per_epoch),
        }
    }
}

fn rows_through(run: &Run, step: u64) -> (f64, usize) {
    let rows: Vec<&MetricsRow> = run.rows.iter().filter(|r| r.step <= step).collect();
    (rows.iter().map(|r| r.images()).sum(), rows.len())
}

/// `rows` and then `epochs` more of `per_epoch` images.
fn past(rows: (f64, usize), epochs: u32, per_epoch: f64) -> (f64, usize) {
    (
        rows.0 + f64::from(epochs) * per_epoch,
        rows.1 + epochs as usize,
    )
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

/// `Replayed::replayed` of a variant the replay lost track of.
pub const UNKNOWN: &str = "unknown";

/// Whether the health policy rolled back or stopped at `step`: the training loop then judges
/// nothing at that evaluation.
fn acted_on(events: &[EventRow], step: u64) -> bool {
    events
        .iter()
        .any(|e| e.step == step && matches!(e.action, Taken::Rollback | Taken::Stop))
}

/// What the variants replayed before had at the rung of `epoch`, as `results::Peers` reads a
/// live sweep: their decision there, or the worst figure for one that ended collapsed without;
/// one the replay lost track of before the rung (and whose budget reaches past it), or that it
/// follows past its rows, is unknown.
fn field_before(before: &[Replayed], epoch: u32) -> Field {
    let mut field = Field {
        peers: Vec::new(),
        unknown: Vec::new(),
    };
    for b in before {
        match b.decisions.iter().find(|d| d.record.rung_epoch == epoch) {
            Some(d) => field.peers.push(PeerFigure {
                id: b.id.clone(),
                figure: d.record.figure,
                source: PeerSource::Rung,
            }),
            None if b.outruns_rows() && epoch < b.epochs_planned => {
                field.unknown.push(b.id.clone())
            }
            None => field
                .peers
                .extend(ended_early(b.replayed).map(|source| PeerFigure {
                    id: b.id.clone(),
                    figure: Figure::Worst,
                    source,
                })),
        }
    }
    field
}

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
}

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
    }
}

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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::results::test_rows::swd_rows;

    /// No variant without rows has a figure for its epochs.
    pub(in crate::sweep) fn none() -> EpochImages {
        EpochImages::new()
    }

    pub(in crate::sweep) fn rule() -> PruneConfig {
        PruneConfig {
            enabled: true,
            first_rung: 2,
            eta: 2,
            min_peers: 1,
            ..PruneConfig::default()
        }
    }

    /// A run of `swds` (one per epoch from 1; None: no evaluation) that the sweep left in
    /// `state`, planned for 8 epochs.
    pub(in crate::sweep) fn run(index: usize, swds: &[Option<f64>], state: RunState) -> Run {
        Run {
            index,
            planned_epochs: Some(8),
            state,
            ..Run::for_test(&format!("{index:03}-x"), swd_rows(swds), vec![])
        }
    }

    fn outcome(r: &Replayed) -> String {
        match r.stop() {
            Some(s) => format!("pruned at {} (judged {})", s.rung_epoch, s.judged_epoch),
            None => r.replayed.to_string(),
        }
    }

    #[test]
    fn arrival_order_peers_and_what_is_saved() {
        let e = |x: f64| Some(x);
        let runs = [
            run(
                0,
                &[None, e(50.0), None, e(40.0), None, e(30.0), None, e(20.0)],
                RunState::Finished,
            ),
            run(
                1,
                &[None, e(60.0), None, e(35.0), None, e(25.0), None, e(15.0)],
                RunState::Finished,
            ),
            run(
                2,
                &[None, e(70.0), None, e(80.0), None, e(90.0), None, e(99.0)],
                RunState::Finished,
            ),
            run(3, &[None, e(45.0), e(44.0)], RunState::Collapsed),
            run(
                4,
                &[None, None, e(65.0), e(64.0), None, e(63.0), None, e(62.0)],
                RunState::Finished,
            ),
            run(
                5,
                &[None, e(30.0), None, e(28.0), None, e(26.0), None, e(25.0)],
                RunState::Finished,
            ),
        ];
        let refs: Vec<&Run> = runs.iter().collect();
        let out = replay_in_order(&refs, &rule(), &none());
        let got: Vec<String> = out.iter().map(outcome).collect();
        let want = [
            "finished",               // first at every rung: no peer yet (min_peers 1)
            "pruned at 2 (judged 2)", // 60 behind 50: 2 entrants, 1 place
            "pruned at 2 (judged 2)", // 70: third of three, ceil(3/2) = 2 places
            "collapsed",              // 45: first of four; collapsed at 3 as the sweep did
            "pruned at 2 (judged 3)", // no evaluation at 2: judged at 3 with 65, fourth of five
            "finished",               // best at rung 2; at rung 4 ahead of 40 and the worst
        ];
        assert_eq!(got, want, "{out:#?}");
        let at4 = &out[5].decisions[1].record;
        let peers: Vec<(&str, Figure)> = at4
            .peers
            .iter()
            .map(|p| (p.id.as_str(), p.figure))
            .collect();
        assert_eq!(
            peers,
            [("000-x", Figure::Value(40.0)), ("003-x", Figure::Worst)],
            "pruned variants are no peers past their rung; a collapsed one without a decision \
             there is the worst"
        );
        assert_eq!(
            (out[1].epochs_replayed_min, out[4].epochs_replayed_max),
            (2, 3)
        );
        let t = totals(&out);
        assert_eq!(t.images_recorded, (8.0 * 5.0 + 3.0) * 100.0);
        assert_eq!(
            t.images_budget, t.images_recorded,
            "every variant ended by its own training: what it trained is its cost"
        );
        assert_eq!(t.images_replayed_min, t.images_replayed_max);
        assert_eq!(
            t.images_replayed_min,
            (8.0 + 2.0 + 2.0 + 3.0 + 3.0 + 8.0) * 100.0
        );
        let best = t.best.unwrap();
        assert_eq!((best.id.as_str(), best.final_figure), ("001-x", 15.0));
        assert!(
            matches!(&best.fate, Fate::Stopped { at } if at.rung_epoch == 2),
            "the winner would have been stopped: {best:?}"
        );
    }

    #[test]
    fn a_rolled_back_evaluation_judges_nothing_and_a_collapsed_peer_keeps_its_figure() {
        let e = |x: f64| Some(x);
        let first = run(0, &[None, e(10.0), None, e(10.0)], RunState::Collapsed);
        let mut second = run(1, &[None, e(50.0), None, e(99.0)], RunState::Finished);
        // Rolled back at step 2 (epoch 2) to epoch 0: epoch 2 is trained again as step 4.
        for (row, (epoch, attempt)) in second.rows.iter_mut().zip([(1, 0), (2, 0), (1, 1), (2, 1)])
        {
            (row.epoch, row.attempt) = (epoch, attempt);
        }
        second.events = vec![crate::results::test_rows::rollback(2, 2, 1, 0)];
        second.abandoned = abandoned(&second.rows, &second.events);
        let out = replay(&[&first, &second], &rule(), &none());
        let d: Vec<&RungRecord> = out[1].decisions.iter().map(|d| &d.record).collect();
        assert_eq!(d.len(), 1, "one judgement, after the rollback: {d:#?}");
        assert_eq!((d[0].judged_epoch, d[0].step), (2, 4));
        assert_eq!(
            d[0].figure,
            Figure::Value(99.0),
            "the first attempt's 50 was abandoned"
        );
        assert_eq!(
            d[0].peers[0].figure,
            Figure::Value(10.0),
            "run 0 collapsed later but was judged at rung 2: its figure there, not the worst"
        );
        assert!(d[0].is_stop());
    }

    #[test]
    fn rung_by_rung_every_variant_is_judged_against_all_that_reached_the_rung() {
        let e = |x: f64| Some(x);
        let rule = PruneConfig {
            min_peers: 2,
            ..rule()
        };
        // Listed worst first: on arrival each newcomer beats those before it.
        let runs = [
            run(
                0,
                &[None, e(90.0), None, e(88.0), None, e(86.0)],
                RunState::Finished,
            ),
            run(
                1,
                &[None, e(70.0), None, e(50.0), None, e(48.0)],
                RunState::Finished,
            ),
            run(2, &[None, e(60.0), e(59.0)], RunState::Collapsed),
            run(
                3,
                &[None, e(40.0), None, e(45.0), None, e(20.0)],
                RunState::Finished,
            ),
            run(
                4,
                &[None, None, e(30.0), None, e(35.0), None],
                RunState::Finished,
            ),
        ];
        let refs: Vec<&Run> = runs.iter().collect();
        let rows: [(&str, &str, &str); 5] = [
            (
                "pruned at 2 (judged 2)",
                "finished",
                "90: last of five; on arrival no peers yet",
            ),
            (
                "pruned at 2 (judged 2)",
                "finished",
                "70: fourth of five; on arrival one peer",
            ),
            (
                "collapsed",
                "collapsed",
                "60: third of five goes on, collapses as recorded",
            ),
            (
                "finished",
                "finished",
                "40 at rung 2; best so far 40 second of three at 4",
            ),
            (
                "finished",
                "finished",
                "judged at 3 for rung 2 and at 5 for 4: best at both",
            ),
        ];
        let rungwise: Vec<String> = replay(&refs, &rule, &none()).iter().map(outcome).collect();
        let arrival: Vec<String> = replay_in_order(&refs, &rule, &none())
            .iter()
            .map(outcome)
            .collect();
        for (i, (want_rungwise, want_arrival, why)) in rows.iter().enumerate() {
            assert_eq!(rungwise[i], *want_rungwise, "rung by rung, {i}: {why}");
            assert_eq!(arrival[i], *want_arrival, "on arrival, {i}: {why}");
        }
    }

    #[test]
    fn rows_that_end_before_the_rule_stops_them_are_followed_no_further() {
        let e = |x: f64| Some(x);
        // 1 and 2 were stopped live at epoch 2 by a stricter rule: their rows end there. This
        // rule (rungs 2 and 4 of 8) keeps 1, so nobody knows its figure at rung 4.
        let runs = [
            run(
                0,
                &[None, e(50.0), None, e(40.0), None, e(30.0), None, e(20.0)],
                RunState::Finished,
            ),
            run(1, &[None, e(55.0)], RunState::Pruned),
            run(2, &[None, e(90.0)], RunState::Pruned),
            run(
                3,
                &[None, e(60.0), None, e(45.0), None, e(44.0), None, e(43.0)],
                RunState::Finished,
            ),
            run(
                4,
                &[None, e(70.0), None, e(65.0), None, e(64.0), None, e(63.0)],
                RunState::Finished,
            ),
        ];
        let refs: Vec<&Run> = runs.iter().collect();
        let out = replay(&refs, &rule(), &none());
        let got: Vec<(&str, Option<u32>)> = out
            .iter()
            .map(|r| (r.replayed, r.unknown.as_ref().map(|u| u.epoch)))
            .collect();
        let rows: [((&str, Option<u32>), &str); 5] = [
            (
                ("finished", None),
                "first at rung 4, and first of three had 1 been there",
            ),
            (
                (UNKNOWN, Some(4)),
                "second of five at rung 2 goes on; no rows after it: trains to rung 4 at least",
            ),
            (
                ("pruned", None),
                "last of five at rung 2: known, every variant had rows there",
            ),
            (
                (UNKNOWN, Some(4)),
                "behind 0 at rung 4: stopped, unless 1 was there and worse",
            ),
            (("pruned", None), "fourth of five at rung 2"),
        ];
        for (i, (want, why)) in rows.iter().enumerate() {
            assert_eq!(got[i], *want, "{i}: {why}: {out:#?}");
        }
        assert_eq!(
            out[0].decisions[1].unknown_peers,
            ["001-x"],
            "rung 4 judged without 1, and says so"
        );
        assert!(out[1].unknown.as_ref().unwrap().why.contains("pruned live"));
        let t = totals(&out);
        assert_eq!(t.unknown, ["001-x", "003-x"]);
        assert_eq!(
            t.images_replayed_min,
            (8.0 + 4.0 + 2.0 + 4.0 + 2.0) * 100.0,
            "what the rule trains at least: 1 to rung 4, the next that could stop it, and 3 \
             through its rung-4 evaluation"
        );
        assert_eq!(
            (t.images_replayed_max, t.images_budget),
            ((8.0 + 8.0 + 2.0 + 8.0 + 2.0) * 100.0, 8.0 * 5.0 * 100.0),
            "at most: 1 and 3 to their budget; the cost: every budget, 1 and 2 (pruned live) \
             counted at 8 epochs past their rows"
        );
        let best = t.best.unwrap();
        assert_eq!(best.id, "000-x");
        assert!(
            matches!(best.fate, Fate::Survives),
            "000 survives whatever 1 had"
        );
        // On arrival, 1 first: no variant before it can be its peer, so no rung stops it (it
        // trains its budget, figures unknown); 0 is judged at rung 4 against nobody it can
        // see, but 1 was there, maybe ahead of it.
        let arrival = replay_in_order(&[&runs[1], &runs[0]], &rule(), &none());
        let got: Vec<(&str, Option<u32>)> = arrival
            .iter()
            .map(|r| (r.replayed, r.unknown.as_ref().map(|u| u.epoch)))
            .collect();
        assert_eq!(
            got,
            [("finished", None), (UNKNOWN, Some(4))],
            "{arrival:#?}"
        );
        assert!(arrival[0].past_rows.is_some(), "{arrival:#?}");
    }

    /// Five variants trained through their budget of 8 (evaluated every other epoch): 3 starts
    /// behind and ends best, 2 is bad throughout.
    fn complete() -> Vec<Run> {
        let curves: [[f64; 4]; 5] = [
            [50.0, 40.0, 30.0, 20.0],
            [60.0, 35.0, 25.0, 15.0],
            [70.0, 80.0, 90.0, 99.0],
            [75.0, 45.0, 20.0, 10.0],
            [65.0, 64.0, 63.0, 62.0],
        ];
        let runs = curves.iter().enumerate().map(|(i, c)| {
            let swds: Vec<Option<f64>> = (1..=8)
                .map(|e| (e % 2 == 0).then(|| c[e / 2 - 1]))
                .collect();
            run(i, &swds, RunState::Finished)
        });
        runs.collect()
    }

    /// A variant, the epochs of rows it keeps, and how the sweep left it.
    type Cut = (usize, usize, RunState);

    /// `runs` with the rows of variant `i` cut to `keep` epochs and its state set (the sweep
    /// stopped or lost it there).
    fn cut(runs: &[Run], cuts: &[Cut]) -> Vec<Run> {
        let mut out = runs.to_vec();
        for &(i, keep, state) in cuts {
            out[i] = run(i, &[], state);
            out[i].rows = runs[i].rows[..keep].to_vec();
            out[i].abandoned = vec![false; keep];
        }
        out
    }

    #[test]
    fn the_bounds_over_cut_rows_hold_what_the_complete_rows_give() {
        let rules: [(PruneConfig, &str); 5] = [
            (rule(), "rungs 2, 4 of 8, eta 2"),
            (
                PruneConfig {
                    first_rung: 4,
                    ..rule()
                },
                "one rung, at 4",
            ),
            (PruneConfig { eta: 3, ..rule() }, "eta 3: rung 2 and 6"),
            (
                PruneConfig {
                    min_peers: 3,
                    ..rule()
                },
                "min_peers 3",
            ),
            (
                PruneConfig {
                    min_peers: 20,
                    ..rule()
                },
                "nobody can be stopped",
            ),
        ];
        let cuts: [(&[Cut], &str); 4] = [
            (
                &[(1, 2, RunState::Pruned), (2, 2, RunState::Pruned)],
                "two stopped live at rung 2",
            ),
            (
                &[(3, 0, RunState::NotStarted)],
                "the late winner never started",
            ),
            (
                &[(4, 3, RunState::Interrupted), (0, 5, RunState::Interrupted)],
                "two killed mid-sweep",
            ),
            (
                &[
                    (0, 2, RunState::Pruned),
                    (3, 2, RunState::Pruned),
                    (4, 4, RunState::Pruned),
                ],
                "three stopped live, the winner among them",
            ),
        ];
        let full = complete();
        let given: EpochImages = [("003-x".to_string(), 100.0)].into();
        for (rule, rule_why) in &rules {
            for (cuts, cut_why) in cuts {
                let part = cut(&full, cuts);
                for in_order in [false, true] {
                    let go = |runs: &[Run]| {
                        let refs: Vec<&Run> = runs.iter().collect();
                        let out = match in_order {
                            false => replay(&refs, rule, &given),
                            true => replay_in_order(&refs, rule, &given),
                        };
                        totals(&out)
                    };
                    let (all, some) = (go(&full), go(&part));
                    let why = format!("{rule_why}, {cut_why}, on arrival {in_order}");
                    assert_eq!(all.images_replayed_min, all.images_replayed_max, "{why}");
                    assert_eq!(
                        some.images_budget, all.images_budget,
                        "{why}: the cost without [prune] counts the cut budgets in full"
                    );
                    let trained = all.images_replayed_min;
                    assert!(
                        some.images_replayed_min <= trained && trained <= some.images_replayed_max,
                        "{why}: {trained} outside {} to {}",
                        some.images_replayed_min,
                        some.images_replayed_max
                    );
                }
            }
        }
    }

    #[test]
    fn a_variant_cut_short_trains_to_the_next_rung_that_could_stop_it() {
        let full = complete();
        let given: EpochImages = [("003-x".to_string(), 100.0)].into();
        // The rule, the cut, how it ends and the epochs it trains at least and at most, why.
        type Row = (PruneConfig, Cut, (&'static str, usize, usize), &'static str);
        let rows: [Row; 5] = [
            (
                PruneConfig {
                    min_peers: 20,
                    ..rule()
                },
                (1, 2, RunState::Pruned),
                ("finished", 8, 8),
                "at most 4 peers, min_peers 20: no rung can stop it, it trains its budget",
            ),
            (
                PruneConfig {
                    first_rung: 4,
                    ..rule()
                },
                (1, 2, RunState::Pruned),
                (UNKNOWN, 4, 8),
                "rows end at 2, the first rung is 4: it trains to 4 at least",
            ),
            (
                rule(),
                (3, 0, RunState::NotStarted),
                (UNKNOWN, 2, 8),
                "not started: it trains to the first rung at least",
            ),
            (
                rule(),
                (0, 5, RunState::Interrupted),
                ("finished", 8, 8),
                "judged at rungs 2 and 4 and kept: no rung left, it trains its budget",
            ),
            (
                PruneConfig { eta: 1, ..rule() },
                (3, 0, RunState::NotStarted),
                ("finished", 8, 8),
                "eta 1: no rungs at all; a variant never started trains its budget",
            ),
        ];
        for (rule, c, (state, least, most), why) in &rows {
            let part = cut(&full, &[*c]);
            let refs: Vec<&Run> = part.iter().collect();
            let r = &replay(&refs, rule, &given)[c.0];
            assert_eq!(
                (r.replayed, r.epochs_replayed_min, r.epochs_replayed_max),
                (*state, *least, *most),
                "{why}: {r:#?}"
            );
            assert_eq!(r.past_rows.is_some(), *state == "finished", "{why}");
            assert_eq!(r.final_figure, None, "{why}: its rows end before it does");
        }
    }
}
