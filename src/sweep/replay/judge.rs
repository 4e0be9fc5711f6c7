//! One decision of the replay: where a run arrives at each rung (the evaluation that first
//! judges it, from its metrics as they stood then), the decision there against what the replay
//! knows of the other variants (`Judged`), and where it loses track of a run instead
//! (`Unknown`).

use serde::Serialize;

use super::cost::Through;
use super::rows::{budget, last_epoch, rows_end_why};
use crate::prune::{self, Figure, PruneConfig, Rung};
use crate::results::reader::Run;
use crate::results::{EventRow, PeerFigure, RungRecord, Taken, abandoned};

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
    pub(super) through: Through,
}

impl Unknown {
    /// `run`'s rows end before `rung`, the next that could stop it.
    pub(super) fn outlived(run: &Run, rung: Rung) -> Unknown {
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

/// Where a run would be judged at a rung: the evaluation (epoch, step) and its figure there.
pub(super) struct Arrival {
    pub(super) rung: Rung,
    judged: (u32, u64),
    pub(super) figure: Figure,
}

/// What the replay knows of the other variants at a rung: the figures of those there, and the
/// ids of those that may have been there with a figure it cannot know.
pub(super) struct Field {
    pub(super) peers: Vec<PeerFigure>,
    pub(super) unknown: Vec<String>,
}

impl Arrival {
    /// The decision at the rung against `field`; Err where the unknown variants could turn it.
    pub(super) fn judge(&self, rule: &PruneConfig, field: Field) -> Result<Judged, Unknown> {
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
pub(super) fn arrivals(run: &Run, rule: &PruneConfig) -> Vec<Arrival> {
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

/// Whether the health policy rolled back or stopped at `step`: the training loop then judges
/// nothing at that evaluation.
fn acted_on(events: &[EventRow], step: u64) -> bool {
    events
        .iter()
        .any(|e| e.step == step && matches!(e.action, Taken::Rollback | Taken::Stop))
}
