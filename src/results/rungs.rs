//! `rungs/eNNNN.json`: `[prune]`'s decision at one rung for one variant. Written once by the
//! variant's recorder (temp file, fsync, hard link: an existing decision is never replaced) and
//! read by its peers: the figure a variant recorded at a rung is what later variants are ranked
//! against there. The file is the decision's commit point; the events row, `status: pruned` and
//! the checkpoint that follow a stop are repeated harmlessly after a crash.
//!
//! `rungs/wNNNN.json`: the figure a variant brought to a rung where it waits to be judged (a
//! `run --jobs 1` sweep judges every variant at a rung only once all have reached it). Peers
//! count it as they count a decision there; the decision file comes later, with the same figure.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::experiment_dir::ExperimentDir;
use super::names;
use super::run_dir::RunDir;
use super::status::{State, Status};
use crate::fsx;
use crate::prune::{Decision, Figure, Metric, PruneConfig, Rung};

/// What became of the variant at the rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Within the best 1/eta: went on.
    Keep,
    /// Fewer than `min_peers` peers had a figure: went on unranked.
    TooFewPeers,
    /// Behind: stopped here.
    Stop,
}

/// Where a peer's figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerSource {
    /// Its own decision file at this rung, or the figure it waits there with.
    Rung,
    /// It collapsed without a decision at this rung: the worst figure.
    Collapsed,
    /// It ended `stalled` (got nowhere) without a decision at this rung: the worst figure.
    Stalled,
}

/// A run that ended without reaching later rungs, and counts as the worst at them: collapsed
/// or stalled.
/// `state` is the word status.json and summary.csv write (`State::word`, `RunState::word`).
pub fn ended_early(state: &str) -> Option<PeerSource> {
    if state == State::Collapsed.word() {
        Some(PeerSource::Collapsed)
    } else if state == State::Stalled.word() {
        Some(PeerSource::Stalled)
    } else {
        None
    }
}

/// One peer as it was compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerFigure {
    pub id: String,
    pub figure: Figure,
    pub source: PeerSource,
}

/// A variant's decision at one rung, with everything it was decided from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RungRecord {
    /// The rung's index (0 = the first) and epoch.
    pub rung: usize,
    pub rung_epoch: u32,
    /// The evaluation that judged it: the rung's epoch, or the next evaluation when the rung's
    /// epoch had none.
    pub judged_epoch: u32,
    /// The training step of that evaluation (events.csv's `step`).
    pub step: u64,
    /// The variant's best figure so far, through `judged_epoch`.
    pub figure: Figure,
    pub outcome: Outcome,
    /// 1 + the peers strictly better; None with too few peers.
    pub place: Option<usize>,
    /// The places that go on: `ceil(entrants / eta)`; None with too few peers.
    pub places: Option<usize>,
    /// The variant and its peers.
    pub entrants: usize,
    /// The figure at the last place that goes on; None with too few peers.
    pub cutoff: Option<Figure>,
    pub peers: Vec<PeerFigure>,
    /// The rule that decided (metric, first rung, eta, min_peers).
    pub rule: PruneConfig,
}

impl RungRecord {
    /// The record of `decision`, made from `peers` at the evaluation of `judged_epoch` (step
    /// `step`) under `rule`.
    pub fn new(
        rule: &PruneConfig,
        (judged_epoch, step): (u32, u64),
        decision: &Decision,
        peers: Vec<PeerFigure>,
    ) -> RungRecord {
        let (rung, figure, outcome, standing) = match decision {
            Decision::KeepFewPeers { rung, figure, .. } => {
                (*rung, *figure, Outcome::TooFewPeers, None)
            }
            Decision::Keep(s) => (s.rung, s.figure, Outcome::Keep, Some(s)),
            Decision::Stop(s) => (s.rung, s.figure, Outcome::Stop, Some(s)),
        };
        RungRecord {
            rung: rung.index,
            rung_epoch: rung.epoch,
            judged_epoch,
            step,
            figure,
            outcome,
            place: standing.map(|s| s.place),
            places: standing.map(|s| s.places),
            entrants: peers.len() + 1,
            cutoff: standing.map(|s| s.cutoff),
            peers,
            rule: rule.clone(),
        }
    }

    pub fn is_stop(&self) -> bool {
        self.outcome == Outcome::Stop
    }

    /// The rung as a person names it: "rung 2 (epoch 30)".
    pub fn rung_name(&self) -> String {
        format!("rung {} (epoch {})", self.rung + 1, self.rung_epoch)
    }

    /// Each peer as `id figure`, or `id worst (collapsed)` for a collapsed peer without a
    /// decision at this rung.
    pub fn peer_figures(&self) -> Vec<String> {
        self.peers
            .iter()
            .map(|p| match p.source {
                PeerSource::Rung => format!("{} {}", p.id, p.figure),
                PeerSource::Collapsed => format!("{} worst (collapsed)", p.id),
                PeerSource::Stalled => format!("{} worst (stalled)", p.id),
            })
            .collect()
    }

    /// One sentence: the figure, where it placed and against which peers.
    pub fn describe(&self) -> String {
        let peers = self.peer_figures();
        let peers = if peers.is_empty() {
            "none".to_string()
        } else {
            peers.join(", ")
        };
        format!("{}; peers: {peers}", self.summary())
    }

    /// `describe` without the peers' figures: the figure and where it placed.
    pub fn summary(&self) -> String {
        let metric = self.rule.metric;
        let judged = if self.judged_epoch == self.rung_epoch {
            String::new()
        } else {
            format!(", judged at the evaluation of epoch {}", self.judged_epoch)
        };
        let head = format!(
            "{metric} {} (best so far) at {}{judged}",
            self.figure,
            self.rung_name()
        );
        let standing = match (self.outcome, self.place, self.places, self.cutoff) {
            (Outcome::TooFewPeers, ..) => format!(
                "{} peer(s), fewer than min_peers = {}: goes on unranked",
                self.peers.len(),
                self.rule.min_peers
            ),
            (outcome, Some(place), Some(places), Some(cutoff)) => format!(
                "place {place} of {}, the best {places} go on (cutoff {cutoff}): {}",
                self.entrants,
                if outcome == Outcome::Stop {
                    "stopped"
                } else {
                    "goes on"
                }
            ),
            _ => "no standing recorded".to_string(),
        };
        format!("{head}; {standing}")
    }

    /// The rung this record decided.
    pub fn as_rung(&self) -> Rung {
        Rung {
            index: self.rung,
            epoch: self.rung_epoch,
        }
    }
}

/// A variant's figure at a rung it reached and waits at, not judged yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RungArrival {
    /// The rung's index (0 = the first) and epoch.
    pub rung: usize,
    pub rung_epoch: u32,
    /// The evaluation the figure comes from, and its training step.
    pub judged_epoch: u32,
    pub step: u64,
    /// The best figure so far, through `judged_epoch`.
    pub figure: Figure,
    /// The metric the figure is of.
    pub metric: Metric,
}

/// Writes `arrival` unless one is there already (a rerun brings the same figure).
pub(super) fn write_arrival(dir: &RunDir, arrival: &RungArrival) -> Result<()> {
    let path = dir.rung_waiting(arrival.rung_epoch);
    let json = serde_json::to_string_pretty(arrival).expect("a rung arrival serializes");
    fsx::write_new(&path, format!("{json}\n").as_bytes())?;
    Ok(())
}

/// `dir`'s figure at the rung of `epoch` while it waits there, if any.
pub fn read_arrival(dir: &RunDir, epoch: u32) -> Result<Option<RungArrival>> {
    fsx::read_json(&dir.rung_waiting(epoch), "rung arrival")
}

/// Writes `record` as `dir`'s decision at its rung unless one is there already; returns the
/// decision that stands (the existing one wins: a decision is never revisited).
pub(super) fn write_once(dir: &RunDir, record: &RungRecord) -> Result<RungRecord> {
    let path = dir.rung_decision(record.rung_epoch);
    let json = serde_json::to_string_pretty(record).expect("a rung record serializes");
    if fsx::write_new(&path, format!("{json}\n").as_bytes())? {
        Ok(record.clone())
    } else {
        read(&path)?.with_context(|| format!("{} vanished", path.display()))
    }
}

fn read(path: &Path) -> Result<Option<RungRecord>> {
    fsx::read_json(path, "rung decision")
}

/// `dir`'s decision at the rung of `epoch`, if any.
pub fn read_at(dir: &RunDir, epoch: u32) -> Result<Option<RungRecord>> {
    read(&dir.rung_decision(epoch))
}

/// Every decision of `dir`, by rung epoch (none when it was never judged).
pub fn read_all(dir: &RunDir) -> Result<Vec<RungRecord>> {
    let folder = dir.rungs();
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Ok(Vec::new());
    };
    let mut epochs = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", folder.display()))?;
        if let Some(epoch) = names::rung_decision_epoch(&entry.file_name().to_string_lossy()) {
            epochs.push(epoch);
        }
    }
    epochs.sort_unstable();
    let mut out = Vec::new();
    for epoch in epochs {
        out.extend(read_at(dir, epoch)?);
    }
    Ok(out)
}

/// The variants of an experiment as `[prune]` ranks one of them against the others: no
/// coordinator, only what each recorded in its run directory. Reads only.
#[derive(Clone, Debug)]
pub struct Peers {
    exp: ExperimentDir,
    /// Every variant of the experiment (the one judged is left out by `at`).
    ids: Vec<String>,
}

impl Peers {
    pub fn new(exp: ExperimentDir, ids: Vec<String>) -> Peers {
        Peers { exp, ids }
    }

    /// The figures `me` is compared with at the rung of `epoch`: every other variant's decision
    /// there under the same `metric` (or, while it waits to be judged there, the figure it
    /// brought), and as the worst figure every collapsed variant without one (it did not reach
    /// the rung, or was not judged there before it collapsed).
    pub fn at(&self, me: &str, epoch: u32, metric: Metric) -> Result<Vec<PeerFigure>> {
        let mut out = Vec::new();
        for id in self.ids.iter().filter(|id| *id != me) {
            let dir = self.exp.run(id);
            let decided = read_at(&dir, epoch)?.filter(|r| r.rule.metric == metric);
            let brought = match decided {
                Some(r) => Some(r.figure),
                None => read_arrival(&dir, epoch)?
                    .filter(|a| a.metric == metric)
                    .map(|a| a.figure),
            };
            if let Some(figure) = brought {
                out.push(PeerFigure {
                    id: id.clone(),
                    figure,
                    source: PeerSource::Rung,
                });
            } else if let Some(source) =
                Status::read(&dir.status())?.and_then(|s| ended_early(s.state.word()))
            {
                out.push(PeerFigure {
                    id: id.clone(),
                    figure: Figure::Worst,
                    source,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prune::decide;

    fn rule() -> PruneConfig {
        PruneConfig {
            enabled: true,
            min_peers: 2,
            ..PruneConfig::default()
        }
    }

    fn peer(id: &str, figure: Figure, source: PeerSource) -> PeerFigure {
        PeerFigure {
            id: id.into(),
            figure,
            source,
        }
    }

    fn stop_record() -> RungRecord {
        let rung = Rung {
            index: 1,
            epoch: 30,
        };
        let peers = vec![
            peer("000-a", Figure::Value(20.0), PeerSource::Rung),
            peer("001-b", Figure::Value(30.0), PeerSource::Rung),
            peer("002-c", Figure::Worst, PeerSource::Collapsed),
        ];
        let figures: Vec<Figure> = peers.iter().map(|p| p.figure).collect();
        let decision = decide(&rule(), rung, Figure::Value(35.5), &figures);
        RungRecord::new(&rule(), (40, 41), &decision, peers)
    }

    #[test]
    fn a_stop_says_which_figures_were_compared() {
        let r = stop_record();
        assert!(r.is_stop());
        assert_eq!((r.place, r.places, r.entrants), (Some(3), Some(2), 4));
        assert_eq!(
            r.describe(),
            "swd 35.5 (best so far) at rung 2 (epoch 30), judged at the evaluation of epoch 40; \
             place 3 of 4, the best 2 go on (cutoff 30): stopped; \
             peers: 000-a 20, 001-b 30, 002-c worst (collapsed)"
        );
    }

    #[test]
    fn a_decision_is_written_once_and_reads_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::at(tmp.path().join("runs/003-d"));
        let first = stop_record();
        assert_eq!(write_once(&dir, &first).unwrap(), first);
        let mut other = first.clone();
        other.outcome = Outcome::Keep;
        assert_eq!(
            write_once(&dir, &other).unwrap(),
            first,
            "the decision on disk stands"
        );
        assert_eq!(read_all(&dir).unwrap(), std::slice::from_ref(&first));
        assert_eq!(read_at(&dir, 30).unwrap(), Some(first));
        assert_eq!(read_at(&dir, 90).unwrap(), None);
        let names: Vec<String> = std::fs::read_dir(dir.rungs())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["e0030.json"], "no temp file left behind");
    }

    #[test]
    fn too_few_peers_has_no_standing() {
        let rung = Rung {
            index: 0,
            epoch: 10,
        };
        let d = decide(&rule(), rung, Figure::Value(9.0), &[Figure::Value(1.0)]);
        let peers = vec![peer("000-a", Figure::Value(1.0), PeerSource::Rung)];
        let r = RungRecord::new(&rule(), (10, 10), &d, peers);
        assert_eq!(
            (r.outcome, r.place, r.cutoff),
            (Outcome::TooFewPeers, None, None)
        );
        assert!(
            r.describe()
                .contains("1 peer(s), fewer than min_peers = 2: goes on unranked")
        );
    }

    #[test]
    fn peers_are_decisions_then_figures_waiting_at_the_rung_then_the_collapsed_and_stalled() {
        let tmp = tempfile::tempdir().unwrap();
        let exp = ExperimentDir::at(tmp.path());
        let ids: Vec<String> = ["000-a", "001-b", "002-c", "003-d", "004-e", "005-f"]
            .map(String::from)
            .to_vec();
        let mut decided = stop_record();
        decided.rung_epoch = 30;
        write_once(&exp.run("000-a"), &decided).unwrap();
        let waiting = |figure: f64, metric: Metric| RungArrival {
            rung: 1,
            rung_epoch: 30,
            judged_epoch: 30,
            step: 31,
            figure: Figure::Value(figure),
            metric,
        };
        write_arrival(&exp.run("001-b"), &waiting(12.5, Metric::Swd)).unwrap();
        write_arrival(&exp.run("001-b"), &waiting(99.0, Metric::Swd)).unwrap();
        write_arrival(&exp.run("002-c"), &waiting(7.0, Metric::TagKl)).unwrap();
        let collapsed = Status {
            state: State::Collapsed,
            epochs_done: 20,
            epochs_planned: 90,
            steps_done: 20,
            attempt: 1,
            last_checkpoint: None,
            reason: None,
            continued_after: None,
        };
        for (id, state) in [("003-d", State::Collapsed), ("005-f", State::Stalled)] {
            let dir = exp.run(id);
            std::fs::create_dir_all(dir.status().parent().unwrap()).unwrap();
            Status {
                state,
                ..collapsed.clone()
            }
            .write(&dir.status())
            .unwrap();
        }
        let got = Peers::new(exp, ids).at("004-e", 30, Metric::Swd).unwrap();
        let got: Vec<(&str, Figure, PeerSource)> = got
            .iter()
            .map(|p| (p.id.as_str(), p.figure, p.source))
            .collect();
        assert_eq!(
            got,
            [
                ("000-a", Figure::Value(35.5), PeerSource::Rung),
                ("001-b", Figure::Value(12.5), PeerSource::Rung),
                ("003-d", Figure::Worst, PeerSource::Collapsed),
                ("005-f", Figure::Worst, PeerSource::Stalled),
            ],
            "a decision; the first figure a waiting variant wrote (a rerun's does not replace \
             it); not another metric's; a collapsed or stalled one without either as the worst \
             (it ended before the rung)"
        );
    }
}
