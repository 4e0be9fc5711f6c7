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

use serde::Serialize;

use crate::prune::{self, Figure, PruneConfig, Rung};
use crate::results::reader::Run;
use crate::results::{
    EventRow, MetricsRow, PeerFigure, PeerSource, RunState, RungRecord, Taken, abandoned,
    ended_early,
};

/// One variant under the replayed rule.
#[derive(Debug, Clone, Serialize)]
pub struct Replayed {
    pub index: usize,
    pub id: String,
    /// How the sweep itself left it (finished, collapsed, ...).
    pub recorded: &'static str,
    /// How it would have ended: `pruned`, `unknown` (see `unknown`), or as recorded.
    pub replayed: &'static str,
    /// The decisions the replay is sure of, at every rung it would have been judged at; a stop
    /// is the last.
    pub decisions: Vec<Judged>,
    /// Where the replay loses track of it: None when its rows say how it ends.
    pub unknown: Option<Unknown>,
    /// Training images of every epoch the sweep trained it for, and of those it would have
    /// trained under the rule (up to the evaluation that stopped it; with `unknown`, up to
    /// where the replay loses track: what the rule trains at least).
    pub images_recorded: f64,
    pub images_replayed: f64,
    pub epochs_recorded: usize,
    pub epochs_replayed: usize,
    /// The epochs its plan gives it: the rungs it can be judged at lie below.
    pub epochs_planned: u32,
    /// The last value of the rule's metric on the recorded kept timeline.
    pub final_figure: Option<f64>,
}

impl Replayed {
    pub fn stop(&self) -> Option<&RungRecord> {
        self.decisions
            .last()
            .map(|d| &d.record)
            .filter(|d| d.is_stop())
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

/// Where the replay loses track of a variant: its rows end before the replayed rule would stop
/// it (pruned live by another rule, unfinished, failed), or a decision of it could go either
/// way with the figures the replay cannot know.
#[derive(Debug, Clone, Serialize)]
pub struct Unknown {
    /// The epoch it trains to at least: where its rows end, or the evaluation of the decision
    /// that could go either way.
    pub epoch: u32,
    pub why: String,
    /// The metrics.csv step of `epoch`: its images are counted through it.
    #[serde(skip)]
    step: u64,
}

impl Unknown {
    /// `run`'s rows end before the rule would stop it or its budget.
    fn outlived(run: &Run) -> Unknown {
        let last = run.kept().last();
        let epoch = last.map_or(0, |r| r.epoch);
        let rows = match last {
            Some(_) => format!("its rows end at epoch {epoch}"),
            None => "it has no rows".to_string(),
        };
        Unknown {
            epoch,
            why: format!(
                "{rows} ({}); the replayed rule would train it further: unknown from here",
                rows_end_why(run.state)
            ),
            step: run.rows.last().map_or(0, |r| r.step),
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
            step: point.judged.1,
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

/// Whether `run`'s rows end before its budget for a reason other than its own training's end
/// (a collapse or stall ends it under any rule; a finished run trained the budget it had):
/// past them the replay cannot follow it.
fn truncated(run: &Run) -> bool {
    let last = run.kept().last().map_or(0, |r| r.epoch);
    !matches!(
        run.state,
        RunState::Finished | RunState::Collapsed | RunState::Stalled
    ) && last < budget(run)
}

/// The replay of `rule` over `runs` as `run --jobs 1` trains them: in index order, rung by rung
/// when there is more than one (`sweep::rungwise::applies`).
pub fn replay(runs: &[&Run], rule: &PruneConfig) -> Vec<Replayed> {
    let mut ordered: Vec<&Run> = runs.to_vec();
    ordered.sort_by_key(|r| r.index);
    if ordered.len() > 1 {
        replay_rungwise(&ordered, rule)
    } else {
        replay_in_order(&ordered, rule)
    }
}

/// The replay of `rule` over `runs` arriving in the order given: each is judged at a rung
/// against the decisions the replay gave the runs before it there.
pub fn replay_in_order(runs: &[&Run], rule: &PruneConfig) -> Vec<Replayed> {
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
        done.push(ended(run, rule, decisions, lost));
    }
    done
}

/// The replay of `rule` over `runs` (in index order) rung by rung: at each rung every run that
/// reached it, and was not stopped before, is judged against all the others that did (a run
/// that collapsed before the rung counts as the worst), as `sweep::rungwise` judges them live.
/// A run whose rows end before the rung (not stopped, not collapsed) is lost from there: the
/// others are judged without it, and a decision it could turn is lost too.
pub fn replay_rungwise(runs: &[&Run], rule: &PruneConfig) -> Vec<Replayed> {
    let points: Vec<Vec<Arrival>> = runs.iter().map(|r| arrivals(r, rule)).collect();
    let mut decisions: Vec<Vec<Judged>> = vec![Vec::new(); runs.len()];
    let mut lost: Vec<Option<Unknown>> = vec![None; runs.len()];
    let mut epochs: Vec<u32> = points.iter().flatten().map(|p| p.rung.epoch).collect();
    epochs.sort_unstable();
    epochs.dedup();
    for epoch in epochs {
        let alive: Vec<bool> = (0..runs.len())
            .map(|i| lost[i].is_none() && !decisions[i].last().is_some_and(|d| d.record.is_stop()))
            .collect();
        let here: Vec<Option<&Arrival>> = (0..runs.len())
            .map(|i| {
                let point = points[i].iter().find(|p| p.rung.epoch == epoch);
                point.filter(|_| alive[i])
            })
            .collect();
        for (i, run) in runs.iter().enumerate() {
            if alive[i] && here[i].is_none() && epoch < budget(run) && truncated(run) {
                lost[i] = Some(Unknown::outlived(run));
            }
        }
        let mut unsettled: Vec<(usize, Unknown)> = Vec::new();
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
                .filter(|&j| j != i && lost[j].is_some() && epoch < budget(runs[j]))
                .map(|j| runs[j].id.clone())
                .collect();
            match point.judge(rule, Field { peers, unknown }) {
                Ok(judged) => decisions[i].push(judged),
                Err(u) => unsettled.push((i, u)),
            }
        }
        for (i, u) in unsettled {
            lost[i] = Some(u);
        }
    }
    runs.iter()
        .zip(decisions)
        .zip(lost)
        .map(|((run, d), l)| ended(run, rule, d, l))
        .collect()
}

fn budget(run: &Run) -> u32 {
    run.planned_epochs
        .or(run.status.as_ref().map(|s| s.epochs_planned))
        .unwrap_or_else(|| run.rows.iter().map(|r| r.epoch).max().unwrap_or(0))
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

/// `run` under the replayed `decisions` (and where the replay lost track of it, if it did):
/// how it ends and what it would have trained. A run the rule does not stop whose rows end
/// before its budget is lost from there.
fn ended(run: &Run, rule: &PruneConfig, decisions: Vec<Judged>, lost: Option<Unknown>) -> Replayed {
    let stopped_at_step = decisions
        .last()
        .filter(|d| d.record.is_stop())
        .map(|d| d.record.step);
    let unknown = lost
        .or_else(|| (stopped_at_step.is_none() && truncated(run)).then(|| Unknown::outlived(run)));
    let through = stopped_at_step.or(unknown.as_ref().map(|u| u.step));
    let trained = |keep: &dyn Fn(&MetricsRow) -> bool| -> (f64, usize) {
        let rows: Vec<&MetricsRow> = run.rows.iter().filter(|r| keep(r)).collect();
        (rows.iter().map(|r| r.images()).sum(), rows.len())
    };
    let (images_recorded, epochs_recorded) = trained(&|_| true);
    let (images_replayed, epochs_replayed) = trained(&|r| through.is_none_or(|s| r.step <= s));
    Replayed {
        index: run.index,
        id: run.id.clone(),
        recorded: run.state.word(),
        replayed: match (stopped_at_step, &unknown) {
            (Some(_), _) => RunState::Pruned.word(),
            (None, Some(_)) => UNKNOWN,
            (None, None) => run.state.word(),
        },
        decisions,
        unknown,
        images_recorded,
        images_replayed,
        epochs_recorded,
        epochs_replayed,
        epochs_planned: budget(run),
        final_figure: run.kept().filter_map(|r| r.figure(rule.metric)).last(),
    }
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
/// one the replay lost track of before the rung (and whose budget reaches past it) is unknown.
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
            None if b.unknown.is_some() && epoch < b.epochs_planned => {
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

/// The replay's totals: training images recorded and replayed, and what became of the
/// variant that finished best (lowest final figure among those the sweep finished).
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub images_recorded: f64,
    /// With `unknown` variants, what the rule trains at least.
    pub images_replayed: f64,
    /// The variants the replay lost track of (`Replayed::unknown`): while any is, the images
    /// the rule trains are a lower bound and those it saves an upper one.
    pub unknown: Vec<String>,
    pub best: Option<Best>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Best {
    pub id: String,
    pub final_figure: f64,
    /// The rung it would have been stopped at; None: it survives every rung, or (with
    /// `unknown`) the replay cannot say.
    pub stopped_at: Option<RungRecord>,
    pub unknown: Option<Unknown>,
}

pub fn totals(replayed: &[Replayed]) -> Totals {
    let best = replayed
        .iter()
        .filter(|r| r.recorded == RunState::Finished.word())
        .filter_map(|r| Some((r, r.final_figure.filter(|x| x.is_finite())?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(r, x)| Best {
            id: r.id.clone(),
            final_figure: x,
            stopped_at: r.stop().cloned(),
            unknown: r.unknown.clone(),
        });
    Totals {
        images_recorded: replayed.iter().map(|r| r.images_recorded).sum(),
        images_replayed: replayed.iter().map(|r| r.images_replayed).sum(),
        unknown: replayed
            .iter()
            .filter(|r| r.unknown.is_some())
            .map(|r| r.id.clone())
            .collect(),
        best,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::results::test_rows::swd_rows;

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
        let out = replay_in_order(&refs, &rule());
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
        assert_eq!((out[1].epochs_replayed, out[4].epochs_replayed), (2, 3));
        let t = totals(&out);
        assert_eq!(t.images_recorded, (8.0 * 5.0 + 3.0) * 100.0);
        assert_eq!(
            t.images_replayed,
            (8.0 + 2.0 + 2.0 + 3.0 + 3.0 + 8.0) * 100.0
        );
        let best = t.best.unwrap();
        assert_eq!((best.id.as_str(), best.final_figure), ("001-x", 15.0));
        assert_eq!(
            best.stopped_at.map(|s| s.rung_epoch),
            Some(2),
            "the winner would have been stopped"
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
        let out = replay(&[&first, &second], &rule());
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
        let rungwise: Vec<String> = replay(&refs, &rule).iter().map(outcome).collect();
        let arrival: Vec<String> = replay_in_order(&refs, &rule).iter().map(outcome).collect();
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
        let out = replay(&refs, &rule());
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
                (UNKNOWN, Some(2)),
                "second of five at rung 2 goes on; no rows after it",
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
            t.images_replayed,
            (8.0 + 2.0 + 2.0 + 4.0 + 2.0) * 100.0,
            "what the rule trains at least: 3 through its rung-4 evaluation"
        );
        let best = t.best.unwrap();
        assert_eq!((best.id.as_str(), best.stopped_at), ("000-x", None));
        assert!(best.unknown.is_none(), "000 survives whatever 1 had");
        // On arrival, 1 first: 0 is judged at rung 4 against nobody it can see, but 1 may
        // have been there, ahead of it.
        let arrival = replay_in_order(&[&runs[1], &runs[0]], &rule());
        let got: Vec<(&str, Option<u32>)> = arrival
            .iter()
            .map(|r| (r.replayed, r.unknown.as_ref().map(|u| u.epoch)))
            .collect();
        assert_eq!(
            got,
            [(UNKNOWN, Some(2)), (UNKNOWN, Some(4))],
            "{arrival:#?}"
        );
    }
}
