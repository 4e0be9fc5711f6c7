//! `events.csv`: one row per health verdict and what was done about it.

use serde::{Deserialize, Serialize};

use crate::health::{self, Kind, Verdict};

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
}

impl Taken {
    pub fn word(self) -> &'static str {
        match self {
            Taken::Rollback => "rollback",
            Taken::Stop => "stop",
            Taken::Continue => "continue",
        }
    }
}

/// Columns: step, epoch, kind, onset_epoch, action, restored_epoch, changes, evidence,
/// escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub step: u64,
    pub epoch: u64,
    pub kind: Kind,
    pub onset_epoch: u64,
    pub action: Taken,
    /// Empty unless the action is a rollback.
    pub restored_epoch: Option<u64>,
    pub changes: String,
    /// The verdict's evidence, followed by the stop reason if any.
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
            health::Action::Stop { reason } => (
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
            kind: verdict.kind,
            onset_epoch: verdict.onset_epoch,
            action: taken,
            restored_epoch,
            changes,
            evidence,
            escalation,
        }
    }

    pub fn is_rollback(&self) -> bool {
        self.action == Taken::Rollback
    }
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
}
