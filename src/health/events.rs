//! One events.csv row per verdict (written by `store::csv_log`).

use serde::{Deserialize, Serialize};

use super::kind::Verdict;
use super::policy::{Action, format_changes};

/// Columns: step, epoch, kind, onset_epoch, action, restored_epoch, changes, evidence,
/// escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub step: u64,
    pub epoch: u64,
    pub kind: String,
    pub onset_epoch: u64,
    /// rollback | stop | continue (rollback disabled).
    pub action: String,
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

pub fn event_row(step: u64, verdict: &Verdict, action: &Action) -> EventRow {
    let (restored_epoch, changes, evidence, escalation) = match action {
        Action::Rollback {
            restore_epoch,
            changes,
            escalation,
            ..
        } => (
            Some(*restore_epoch),
            format_changes(changes),
            verdict.evidence.clone(),
            *escalation,
        ),
        Action::Stop { reason } => (
            None,
            String::new(),
            format!("{}; {reason}", verdict.evidence),
            0,
        ),
        Action::Continue => (None, String::new(), verdict.evidence.clone(), 0),
    };
    EventRow {
        step,
        epoch: verdict.detected_epoch,
        kind: verdict.kind.to_string(),
        onset_epoch: verdict.onset_epoch,
        action: action.name().to_string(),
        restored_epoch,
        changes,
        evidence,
        escalation,
    }
}

#[cfg(test)]
mod tests {
    use super::super::kind::Kind;
    use super::super::policy::Change;
    use super::*;

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
            new: super::super::policy::Hyper {
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
        w.serialize(event_row(123, &v, &action)).unwrap();
        w.serialize(event_row(
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
    }
}
