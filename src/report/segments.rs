//! Which metrics rows belong to abandoned timelines: epochs a later rollback went back before.

use crate::health::EventRow;

use super::load::Row;

/// `true` for each row that a later rollback abandoned. A rollback event at step `s` restoring
/// epoch `r` abandons every row with `step <= s` and `epoch > r`: its epoch was trained again.
pub fn abandoned(rows: &[Row], events: &[EventRow]) -> Vec<bool> {
    rows.iter()
        .map(|row| {
            events.iter().any(|e| {
                e.restored_epoch
                    .is_some_and(|r| e.step >= row.step && row.epoch as u64 > r)
            })
        })
        .collect()
}

/// Step at which an event's episode began: `onset_epoch` on the event's own timeline.
pub fn onset_step(event: &EventRow) -> u64 {
    event
        .step
        .saturating_sub(event.epoch.saturating_sub(event.onset_epoch))
}

/// Maximal runs of consecutive rows with the same (abandoned, attempt), as index ranges, so a
/// chart can draw each as its own line: no line joins a rolled-back epoch to the restored one.
pub fn pieces(rows: &[Row], abandoned: &[bool]) -> Vec<(std::ops::Range<usize>, bool)> {
    let mut out: Vec<(std::ops::Range<usize>, bool)> = Vec::new();
    for i in 0..rows.len() {
        match out.last_mut() {
            Some((range, a))
                if *a == abandoned[i] && rows[range.start].attempt == rows[i].attempt =>
            {
                range.end = i + 1
            }
            _ => out.push((i..i + 1, abandoned[i])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u64, epoch: u32, attempt: u32) -> Row {
        Row {
            step,
            epoch,
            attempt,
            ..Row::default()
        }
    }

    fn rollback(step: u64, epoch: u64, onset: u64, restored: u64) -> EventRow {
        EventRow {
            step,
            epoch,
            kind: "g_failure".into(),
            onset_epoch: onset,
            action: "rollback".into(),
            restored_epoch: Some(restored),
            changes: String::new(),
            evidence: String::new(),
            escalation: 0,
        }
    }

    #[test]
    fn rows_after_the_restored_epoch_are_abandoned() {
        // attempt 0: epochs 1..=6 (steps 1..=6), rolled back to 4;
        // attempt 1: epochs 5..=8 (steps 7..=10), rolled back to 2;
        // attempt 2: epochs 3..=4 (steps 11..=12).
        let mut rows: Vec<Row> = (1..=6).map(|e| row(e as u64, e, 0)).collect();
        rows.extend((5..=8).map(|e| row(e as u64 + 2, e, 1)));
        rows.extend((3..=4).map(|e| row(e as u64 + 8, e, 2)));
        let events = [rollback(6, 6, 5, 4), rollback(10, 8, 7, 2)];
        let got: Vec<(u64, bool)> = rows
            .iter()
            .zip(abandoned(&rows, &events))
            .map(|(r, a)| (r.step, a))
            .collect();
        let want = [
            (1, false), // before both restored epochs
            (2, false),
            (3, true), // epoch 3 was trained again after the second rollback
            (4, true),
            (5, true), // epochs 5, 6 of attempt 0: first rollback
            (6, true),
            (7, true), // all of attempt 1: second rollback went back to epoch 2
            (8, true),
            (9, true),
            (10, true),
            (11, false), // the surviving timeline
            (12, false),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn no_rollback_abandons_nothing_and_continue_events_are_ignored() {
        let rows: Vec<Row> = (1..=3).map(|e| row(e as u64, e, 0)).collect();
        let mut e = rollback(3, 3, 1, 0);
        e.action = "continue".into();
        e.restored_epoch = None;
        assert_eq!(abandoned(&rows, &[e]), [false, false, false]);
    }

    #[test]
    fn onset_step_counts_back_on_the_events_timeline() {
        assert_eq!(onset_step(&rollback(40, 30, 22, 20)), 32);
    }

    #[test]
    fn pieces_split_at_attempts_and_abandonment() {
        let rows = [row(1, 1, 0), row(2, 2, 0), row(3, 3, 0), row(4, 3, 1)];
        let got = pieces(&rows, &[false, true, true, false]);
        assert_eq!(got, vec![(0..1, false), (1..3, true), (3..4, false)]);
    }
}
