//! `events.csv`: one row per health verdict and what was done about it, and one for a stop at
//! a rung (`[prune]`).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::rungs::RungRecord;
use crate::health::{self, Kind, Verdict};

/// What an events.csv row is about: a collapse verdict of the health detector (its kind, as
/// files before `[prune]` hold them), or `behind`: a stop at a rung for being behind the peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum EventKind {
    Health(Kind),
    Behind,
}

impl EventKind {
    pub const BEHIND: &'static str = "behind";

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Health(k) => k.as_str(),
            EventKind::Behind => Self::BEHIND,
        }
    }

    /// The health kind of a verdict row; None for a rung's stop.
    pub fn health(self) -> Option<Kind> {
        match self {
            EventKind::Health(k) => Some(k),
            EventKind::Behind => None,
        }
    }
}

impl From<Kind> for EventKind {
    fn from(k: Kind) -> Self {
        EventKind::Health(k)
    }
}

/// `row.kind == health::Kind::GFailure` reads as before the rung rows existed.
impl PartialEq<Kind> for EventKind {
    fn eq(&self, other: &Kind) -> bool {
        *self == EventKind::Health(*other)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<EventKind> for String {
    fn from(k: EventKind) -> String {
        k.as_str().to_string()
    }
}

impl TryFrom<String> for EventKind {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        if s == Self::BEHIND {
            return Ok(EventKind::Behind);
        }
        s.parse::<Kind>()
            .map(EventKind::Health)
            .map_err(|e| format!("{e} or {}", Self::BEHIND))
    }
}

/// What was done about a verdict, as events.csv spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Taken {
    /// A checkpoint was restored with new settings (`restored_epoch`, `changes`).
    Rollback,
    /// The policy gave up: the run ended collapsed.
    Stop,
    /// Rollback is disabled: the verdict was only recorded.
    Continue,
    /// `[prune]` stopped the variant at a rung: it ended pruned.
    Prune,
}

impl Taken {
    pub fn word(self) -> &'static str {
        match self {
            Taken::Rollback => "rollback",
            Taken::Stop => "stop",
            Taken::Continue => "continue",
            Taken::Prune => "prune",
        }
    }
}

/// Columns: step, epoch, kind, onset_epoch, action, restored_epoch, changes, evidence,
/// escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub step: u64,
    pub epoch: u64,
    pub kind: EventKind,
    /// A verdict's onset; a rung's stop: the rung's epoch.
    pub onset_epoch: u64,
    pub action: Taken,
    /// Empty unless the action is a rollback.
    pub restored_epoch: Option<u64>,
    pub changes: String,
    /// The verdict's evidence, followed by the stop reason if any; a rung's stop: the figure
    /// compared, its place and the peers' figures (`RungRecord::describe`).
    pub evidence: String,
    /// Rollbacks: how many rollbacks in a row before this one were for the same kind (the
    /// adjustments were raised to the power escalation + 1). Absent in older files: 0.
    #[serde(default)]
    pub escalation: u32,
}

impl EventRow {
    /// The row for `verdict` and the policy's `action` on it, at training step `step`.
    pub fn new(step: u64, verdict: &Verdict, action: &health::Action) -> EventRow {
        let (taken, restored_epoch, changes, evidence, escalation) = match action {
            health::Action::Rollback {
                restore_epoch,
                changes,
                escalation,
                ..
            } => (
                Taken::Rollback,
                Some(*restore_epoch),
                health::format_changes(changes),
                verdict.evidence.clone(),
                *escalation,
            ),
            health::Action::Stop { reason, .. } => (
                Taken::Stop,
                None,
                String::new(),
                format!("{}; {reason}", verdict.evidence),
                0,
            ),
            health::Action::Continue => (
                Taken::Continue,
                None,
                String::new(),
                verdict.evidence.clone(),
                0,
            ),
        };
        EventRow {
            step,
            epoch: verdict.detected_epoch,
            kind: verdict.kind.into(),
            onset_epoch: verdict.onset_epoch,
            action: taken,
            restored_epoch,
            changes,
            evidence,
            escalation,
        }
    }

    /// The row of a stop at a rung, at the step and epoch of the evaluation that judged it.
    pub fn pruned(record: &RungRecord) -> EventRow {
        EventRow {
            step: record.step,
            epoch: record.judged_epoch as u64,
            kind: EventKind::Behind,
            onset_epoch: record.rung_epoch as u64,
            action: Taken::Prune,
            restored_epoch: None,
            changes: String::new(),
            evidence: record.describe(),
            escalation: 0,
        }
    }

    pub fn is_rollback(&self) -> bool {
        self.action == Taken::Rollback
    }
}

/// How many verdicts a run only logged (rollback disabled: `Taken::Continue`).
pub fn logged_verdicts(events: &[EventRow]) -> usize {
    events
        .iter()
        .filter(|e| e.action == Taken::Continue)
        .count()
}

/// What `status` and the report say under a run that logged verdicts with rollback disabled
/// (None when it logged none): how many, their kinds and epochs (the first three), and that
/// the run trained on. Such a run can end `finished` far from the data, its episode over.
pub fn logged_verdicts_note(events: &[EventRow]) -> Option<String> {
    const SHOWN: usize = 3;
    let logged: Vec<&EventRow> = events
        .iter()
        .filter(|e| e.action == Taken::Continue)
        .collect();
    if logged.is_empty() {
        return None;
    }
    let mut listed: Vec<String> = logged
        .iter()
        .take(SHOWN)
        .map(|e| format!("{} at epoch {}", e.kind, e.epoch))
        .collect();
    if logged.len() > SHOWN {
        listed.push(format!("{} more", logged.len() - SHOWN));
    }
    let verdicts = match logged.len() {
        1 => "1 health verdict".to_string(),
        n => format!("{n} health verdicts"),
    };
    Some(format!(
        "{verdicts} logged with rollback disabled ({}); it trained on as it was: events.csv \
         has the evidence",
        listed.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{Action, Change, Hyper};

    #[test]
    fn row_serializes_to_the_documented_columns() {
        let v = Verdict {
            kind: Kind::GFailure,
            onset_epoch: 854,
            detected_epoch: 868,
            evidence: "g_acc <= 0.02 for 15 of the last 15 epochs (max 0.0000)".into(),
        };
        let action = Action::Rollback {
            restore_epoch: 820,
            new: Hyper {
                lr_g: 2e-4,
                lr_d: 1.6e-4,
                label_noise: 0.15,
                batch_size: 128,
            },
            changes: vec![Change {
                name: "lr_d".into(),
                from: 2e-4,
                to: 1.6e-4,
                why: String::new(),
            }],
            escalation: 1,
        };
        let mut w = csv::Writer::from_writer(vec![]);
        w.serialize(EventRow::new(123, &v, &action)).unwrap();
        w.serialize(EventRow::new(
            124,
            &v,
            &Action::Stop {
                reason: "collapsed".into(),
                stalled: false,
            },
        ))
        .unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let want = "step,epoch,kind,onset_epoch,action,restored_epoch,changes,evidence,escalation\n\
            123,868,g_failure,854,rollback,820,lr_d 2e-4->1.6e-4,g_acc <= 0.02 for 15 of the last 15 epochs (max 0.0000),1\n\
            124,868,g_failure,854,stop,,,g_acc <= 0.02 for 15 of the last 15 epochs (max 0.0000); collapsed,0\n";
        assert_eq!(text, want);
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let back: Vec<EventRow> = r.deserialize().map(Result::unwrap).collect();
        assert_eq!(back[0].kind, Kind::GFailure);
        assert_eq!(back[0].action, Taken::Rollback);
        assert_eq!(back[1].action, Taken::Stop);
    }

    #[test]
    fn logged_verdicts_are_counted_and_named() {
        let row = crate::results::test_rows::event;
        let rows = [
            (vec![], None, "no events: nothing to say"),
            (
                vec![row(3, Kind::GFailure, Taken::Rollback)],
                None,
                "a rollback is counted by the rollbacks column",
            ),
            (
                vec![row(15, Kind::DegenerateOutput, Taken::Continue)],
                Some(
                    "1 health verdict logged with rollback disabled (degenerate_output at epoch 15)",
                ),
                "one verdict, named",
            ),
            (
                (1..=5)
                    .map(|e| row(e, Kind::GFailure, Taken::Continue))
                    .collect(),
                Some(
                    "5 health verdicts logged with rollback disabled (g_failure at epoch 1, \
                     g_failure at epoch 2, g_failure at epoch 3, 2 more)",
                ),
                "the first three, then a count",
            ),
        ];
        for (events, want, why) in rows {
            let note = logged_verdicts_note(&events);
            match want {
                None => assert_eq!(note, None, "{why}"),
                Some(w) => assert!(
                    note.as_deref().is_some_and(|n| n.starts_with(w)),
                    "{why}: {note:?}"
                ),
            }
            assert_eq!(logged_verdicts(&events) > 0, note.is_some(), "{why}");
        }
    }

    #[test]
    fn kinds_read_from_old_and_new_rows() {
        let rows = [
            (
                "g_failure",
                Ok(EventKind::Health(Kind::GFailure)),
                "files before [prune]",
            ),
            ("behind", Ok(EventKind::Behind), "a stop at a rung"),
            ("fid", Err(()), "unknown: an error naming the kinds"),
        ];
        for (text, want, why) in rows {
            let got = EventKind::try_from(text.to_string()).map_err(|e| {
                assert!(e.contains("behind") && e.contains("g_failure"), "{e}");
            });
            assert_eq!(got, want, "{why}");
            if let Ok(kind) = got {
                assert_eq!(String::from(kind), text, "{why}: written back as read");
            }
        }
    }
}
