//! Where a replay of a run's own rows parts from the decisions the run recorded (events.csv):
//! past that point the rows are the recorded run's, not what the replayed settings would have
//! trained, so the replay says what it cannot know.

use super::kind::Kind;
use super::replay::Episode;
use super::stats::Segment;

/// The detector decision that ended a segment of the recorded run (its events.csv): a rollback
/// that started the next attempt, or a stop that ended the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedEnd {
    pub epoch: u64,
    pub kind: Kind,
    pub rolled_back: bool,
}

/// Where a replay's decisions part from the recorded run's in one segment (attempt `segment`):
/// past that point the rows are the recorded run's, not what the replayed settings would have
/// trained, and the replay cannot know what those would have done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parting {
    /// The run ended the segment at `end`; the replay acted on nothing by then (`logs_only`:
    /// its settings have rollback disabled, so whatever it raised the run would have trained on).
    Silent {
        segment: usize,
        end: RecordedEnd,
        logs_only: bool,
    },
    /// The replay acts at `epoch` on `kind`, before the run's end of the segment (`end`), or in
    /// a segment the run did not end (None; `last_epoch`: where its rows end).
    Earlier {
        segment: usize,
        kind: Kind,
        epoch: u64,
        end: Option<RecordedEnd>,
        last_epoch: u64,
    },
    /// The replay acts where the run did, on another kind (the policy's changes follow the kind).
    OtherKind {
        segment: usize,
        end: RecordedEnd,
        kind: Kind,
    },
}

/// The partings of a replay from the recorded run, segment by segment: `found` is
/// `replay_segments`'s (most urgent verdict an epoch), `ends` the run's decision that ended each
/// segment, `acts` whether the replayed settings roll back (else they only log). A replay with
/// the run's own settings parts nowhere.
pub fn partings(
    segments: &[Segment],
    found: &[Vec<Episode>],
    ends: &[Option<RecordedEnd>],
    acts: bool,
) -> Vec<Parting> {
    let mut out = Vec::new();
    for (segment, seg) in segments.iter().enumerate() {
        let end = ends.get(segment).copied().flatten();
        let first = found.get(segment).and_then(|f| f.first()).filter(|_| acts);
        let last_epoch = seg.stats.last().map_or(0, |s| s.epoch);
        let parting = match (end, first) {
            (Some(end), Some(f)) if f.detected_epoch == end.epoch => (f.kind != end.kind)
                .then_some(Parting::OtherKind {
                    segment,
                    end,
                    kind: f.kind,
                }),
            (end, Some(f)) if end.is_none_or(|e| f.detected_epoch < e.epoch) => {
                Some(Parting::Earlier {
                    segment,
                    kind: f.kind,
                    epoch: f.detected_epoch,
                    end,
                    last_epoch,
                })
            }
            (Some(end), _) => Some(Parting::Silent {
                segment,
                end,
                logs_only: !acts,
            }),
            (None, _) => None,
        };
        out.extend(parting);
    }
    out
}

impl Parting {
    /// One line for the user, naming segments as the run's attempts.
    pub fn describe(&self) -> String {
        let how = |end: &RecordedEnd| {
            if end.rolled_back {
                "rolled back"
            } else {
                "stopped"
            }
        };
        let ended = |end: &RecordedEnd| format!("{} ({})", how(end), end.kind);
        let later = |segment: usize, end: &RecordedEnd| {
            if end.rolled_back {
                format!(
                    ", and the rows of attempt {} on follow the run's own rollback",
                    segment + 1
                )
            } else {
                String::new()
            }
        };
        match self {
            Parting::Silent {
                segment,
                end,
                logs_only,
            } => {
                let these = if *logs_only {
                    "these settings only log verdicts (rollback.enabled = false), so the run \
                     would have trained on"
                } else {
                    "these settings raised nothing by then"
                };
                format!(
                    "attempt {segment}'s rows end at epoch {e}, where the run {}; {these}: what \
                     would follow epoch {e} is unknown{}",
                    ended(end),
                    later(*segment, end),
                    e = end.epoch,
                )
            }
            Parting::Earlier {
                segment,
                kind,
                epoch,
                end,
                last_epoch,
            } => {
                let run = match end {
                    Some(end) => format!(
                        "before the run {} on {} at epoch {}",
                        how(end),
                        end.kind,
                        end.epoch
                    ),
                    None => "where the run trained on".to_string(),
                };
                let rows = if epoch == last_epoch && end.is_none() {
                    format!(
                        "attempt {segment}'s rows end there: what would follow epoch {epoch} \
                         is unknown"
                    )
                } else {
                    format!(
                        "attempt {segment}'s rows after epoch {epoch}{} are the recorded run's, \
                         not these settings'",
                        match end {
                            Some(e) if e.rolled_back => {
                                format!(" and those of attempt {} on", segment + 1)
                            }
                            _ => String::new(),
                        }
                    )
                };
                format!(
                    "these settings would roll back or stop at epoch {epoch} of attempt \
                     {segment} ({kind}), {run}: {rows}"
                )
            }
            Parting::OtherKind { segment, end, kind } => format!(
                "at epoch {e} of attempt {segment} these settings raise {kind} where the run {}: \
                 a rollback's changes follow the kind, so what would follow epoch {e} is \
                 unknown{}",
                ended(end),
                later(*segment, end),
                e = end.epoch,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partings_from_the_recorded_decisions() {
        let seg = |last: u64| Segment {
            line: 1,
            stats: (1..=last)
                .map(|epoch| super::super::EpochStats {
                    epoch,
                    ..Default::default()
                })
                .collect(),
        };
        let found = |at: &[(Kind, u64)]| -> Vec<Episode> {
            at.iter()
                .map(|&(kind, e)| Episode {
                    kind,
                    onset_epoch: e,
                    detected_epoch: e,
                    end_epoch: None,
                    segment: 0,
                })
                .collect()
        };
        let rolled = |epoch, kind| {
            Some(RecordedEnd {
                epoch,
                kind,
                rolled_back: true,
            })
        };
        let d = Kind::DegenerateOutput;
        let m = Kind::ModeCollapse;
        let segs = [seg(12), seg(30)];
        // (replayed per segment, run's ends, replay rolls back, partings wanted, why)
        type Row = (
            Vec<Vec<Episode>>,
            Vec<Option<RecordedEnd>>,
            bool,
            Vec<Parting>,
            &'static str,
        );
        let rows: Vec<Row> = vec![
            (
                vec![found(&[(d, 12)]), found(&[])],
                vec![rolled(12, d), None],
                true,
                vec![],
                "the run's own decisions",
            ),
            (
                vec![found(&[]), found(&[])],
                vec![rolled(12, d), None],
                true,
                vec![Parting::Silent {
                    segment: 0,
                    end: rolled(12, d).unwrap(),
                    logs_only: false,
                }],
                "nothing raised by the rollback: past it unknown",
            ),
            (
                vec![found(&[(d, 12)]), found(&[])],
                vec![rolled(12, d), None],
                false,
                vec![Parting::Silent {
                    segment: 0,
                    end: rolled(12, d).unwrap(),
                    logs_only: true,
                }],
                "rollback disabled: the run would have trained on",
            ),
            (
                vec![found(&[(m, 9), (d, 12)]), found(&[])],
                vec![rolled(12, d), None],
                true,
                vec![Parting::Earlier {
                    segment: 0,
                    kind: m,
                    epoch: 9,
                    end: rolled(12, d),
                    last_epoch: 12,
                }],
                "an earlier verdict: the rows after it are the run's",
            ),
            (
                vec![found(&[(m, 12)]), found(&[])],
                vec![rolled(12, d), None],
                true,
                vec![Parting::OtherKind {
                    segment: 0,
                    end: rolled(12, d).unwrap(),
                    kind: m,
                }],
                "the same epoch, another kind",
            ),
            (
                vec![found(&[(d, 12)]), found(&[(m, 20)])],
                vec![rolled(12, d), None],
                true,
                vec![Parting::Earlier {
                    segment: 1,
                    kind: m,
                    epoch: 20,
                    end: None,
                    last_epoch: 30,
                }],
                "a verdict where the run trained on",
            ),
            (
                vec![found(&[(d, 12)]), found(&[(m, 20)])],
                vec![None, None],
                false,
                vec![],
                "logged only, as the run did",
            ),
        ];
        for (found, ends, acts, want, why) in rows {
            assert_eq!(partings(&segs, &found, &ends, acts), want, "{why}");
        }
        let silent = Parting::Silent {
            segment: 0,
            end: rolled(12, d).unwrap(),
            logs_only: false,
        };
        assert_eq!(
            silent.describe(),
            "attempt 0's rows end at epoch 12, where the run rolled back (degenerate_output); \
             these settings raised nothing by then: what would follow epoch 12 is unknown, and \
             the rows of attempt 1 on follow the run's own rollback"
        );
    }
}
