//! What a `[prune]` rule would have done to a sweep that trained without it (or with another
//! rule), from its metrics alone (no training; reads only). Each variant is judged by the same
//! functions a live sweep uses (`prune::judged_at`, `best_so_far`, `decide`), from its metrics as
//! they stood at each evaluation (rows a later rollback abandoned still count until that
//! rollback; an evaluation rolled back or stopped at once judges nothing):
//! - `replay`: as `run --jobs 1` trains them, rung by rung (`sweep::rungwise`): at each rung
//!   every variant that reached it is judged against all the others there;
//! - `replay_in_order`: as variants arriving one after another are judged (ASHA, what
//!   `--jobs N` and Slurm array tasks do), each against the variants before it.

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
    /// How it would have ended: `pruned`, or as recorded.
    pub replayed: &'static str,
    /// The decision at every rung it would have been judged at; a stop is the last.
    pub decisions: Vec<RungRecord>,
    /// Training images of every epoch the sweep trained it for, and of those it would have
    /// trained under the rule (up to the evaluation that stopped it).
    pub images_recorded: f64,
    pub images_replayed: f64,
    pub epochs_recorded: usize,
    pub epochs_replayed: usize,
    /// The last value of the rule's metric on the recorded kept timeline.
    pub final_figure: Option<f64>,
}

impl Replayed {
    pub fn stop(&self) -> Option<&RungRecord> {
        self.decisions.last().filter(|d| d.is_stop())
    }
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
        let mut decisions: Vec<RungRecord> = Vec::new();
        for point in arrivals(run, rule) {
            let record = point.judge(rule, peers_at(&done, point.rung.epoch));
            let stop = record.is_stop();
            decisions.push(record);
            if stop {
                break;
            }
        }
        done.push(ended(run, rule, decisions));
    }
    done
}

/// The replay of `rule` over `runs` (in index order) rung by rung: at each rung every run that
/// reached it, and was not stopped before, is judged against all the others that did (a run
/// that collapsed before the rung counts as the worst), as `sweep::rungwise` judges them live.
pub fn replay_rungwise(runs: &[&Run], rule: &PruneConfig) -> Vec<Replayed> {
    let points: Vec<Vec<Arrival>> = runs.iter().map(|r| arrivals(r, rule)).collect();
    let mut decisions: Vec<Vec<RungRecord>> = vec![Vec::new(); runs.len()];
    let mut epochs: Vec<u32> = points.iter().flatten().map(|p| p.rung.epoch).collect();
    epochs.sort_unstable();
    epochs.dedup();
    for epoch in epochs {
        let alive: Vec<bool> = decisions
            .iter()
            .map(|d| !d.last().is_some_and(|r| r.is_stop()))
            .collect();
        let here: Vec<Option<&Arrival>> = (0..runs.len())
            .map(|i| {
                let point = points[i].iter().find(|p| p.rung.epoch == epoch);
                point.filter(|_| alive[i])
            })
            .collect();
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
            decisions[i].push(point.judge(rule, peers));
        }
    }
    runs.iter()
        .zip(decisions)
        .map(|(run, d)| ended(run, rule, d))
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

impl Arrival {
    fn judge(&self, rule: &PruneConfig, peers: Vec<PeerFigure>) -> RungRecord {
        let figures: Vec<Figure> = peers.iter().map(|p| p.figure).collect();
        let decision = prune::decide(rule, self.rung, self.figure, &figures);
        RungRecord::new(rule, self.judged, &decision, peers)
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

/// `run` under the replayed `decisions`: how it ends and what it would have trained.
fn ended(run: &Run, rule: &PruneConfig, decisions: Vec<RungRecord>) -> Replayed {
    let stopped_at_step = decisions.last().filter(|d| d.is_stop()).map(|d| d.step);
    let trained = |keep: &dyn Fn(&MetricsRow) -> bool| -> (f64, usize) {
        let rows: Vec<&MetricsRow> = run.rows.iter().filter(|r| keep(r)).collect();
        (rows.iter().map(|r| r.images()).sum(), rows.len())
    };
    let (images_recorded, epochs_recorded) = trained(&|_| true);
    let (images_replayed, epochs_replayed) =
        trained(&|r| stopped_at_step.is_none_or(|s| r.step <= s));
    Replayed {
        index: run.index,
        id: run.id.clone(),
        recorded: run.state.word(),
        replayed: match stopped_at_step {
            Some(_) => RunState::Pruned.word(),
            None => run.state.word(),
        },
        decisions,
        images_recorded,
        images_replayed,
        epochs_recorded,
        epochs_replayed,
        final_figure: run.kept().filter_map(|r| r.figure(rule.metric)).last(),
    }
}

/// Whether the health policy rolled back or stopped at `step`: the training loop then judges
/// nothing at that evaluation.
fn acted_on(events: &[EventRow], step: u64) -> bool {
    events
        .iter()
        .any(|e| e.step == step && matches!(e.action, Taken::Rollback | Taken::Stop))
}

/// What the variants replayed before had at the rung of `epoch`, as `results::Peers` reads a
/// live sweep: their decision there, or the worst figure for one that ended collapsed without.
fn peers_at(before: &[Replayed], epoch: u32) -> Vec<PeerFigure> {
    before
        .iter()
        .filter_map(
            |b| match b.decisions.iter().find(|d| d.rung_epoch == epoch) {
                Some(d) => Some(PeerFigure {
                    id: b.id.clone(),
                    figure: d.figure,
                    source: PeerSource::Rung,
                }),
                None => ended_early(b.replayed).map(|source| PeerFigure {
                    id: b.id.clone(),
                    figure: Figure::Worst,
                    source,
                }),
            },
        )
        .collect()
}

/// The replay's totals: training images recorded and replayed, and what became of the
/// variant that finished best (lowest final figure among those the sweep finished).
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub images_recorded: f64,
    pub images_replayed: f64,
    pub best: Option<Best>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Best {
    pub id: String,
    pub final_figure: f64,
    /// The rung it would have been stopped at; None: it survives every rung.
    pub stopped_at: Option<RungRecord>,
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
        });
    Totals {
        images_recorded: replayed.iter().map(|r| r.images_recorded).sum(),
        images_replayed: replayed.iter().map(|r| r.images_replayed).sum(),
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
        let at4 = &out[5].decisions[1];
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
        let d = &out[1].decisions;
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
}
