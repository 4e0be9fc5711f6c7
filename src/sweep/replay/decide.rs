//! The decisions of a rule over a finished sweep's runs: rung by rung as `run --jobs 1` trains
//! them (`replay`, `replay_rungwise`), or on arrival as `--jobs N` and Slurm array tasks do
//! (`replay_in_order`). A run lost from a rung on is left out of the others' peers there, and
//! a decision it could turn is lost too.

use super::cost::EpochImages;
use super::end::{End, Replayed};
use super::judge::{Arrival, Field, Judged, Unknown, arrivals};
use super::rows::{budget, truncated};
use crate::prune::{Figure, PruneConfig};
use crate::results::reader::Run;
use crate::results::{PeerFigure, PeerSource, ended_early};

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

/// Whether the last of `decisions` stops the run.
fn stopped(decisions: &[Judged]) -> bool {
    decisions.last().is_some_and(|d| d.record.is_stop())
}

/// Whether `decisions` stop the run at a rung before `epoch`.
fn stopped_before(decisions: &[Judged], epoch: u32) -> bool {
    decisions
        .last()
        .is_some_and(|d| d.record.is_stop() && d.record.rung_epoch < epoch)
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
