//! Which metric rows survive: a rollback abandons the epochs after the checkpoint it restored
//! (they are trained again), so readers show the surviving timeline and fade or leave out the
//! rest; and which sample grids show it.

use std::collections::HashSet;

use super::events::EventRow;
use super::metrics::MetricsRow;

/// `true` for each row that a later rollback abandoned. A rollback event at step `s` restoring
/// epoch `r` abandons every row with `step <= s` and `epoch > r`: its epoch was trained again.
pub fn abandoned(rows: &[MetricsRow], events: &[EventRow]) -> Vec<bool> {
    rows.iter()
        .map(|row| {
            events.iter().any(|e| {
                e.restored_epoch
                    .is_some_and(|r| e.step >= row.step && row.epoch as u64 > r)
            })
        })
        .collect()
}

/// The rows of `rows` that survived every rollback (`abandoned` is parallel to `rows`).
pub fn kept<'a>(
    rows: &'a [MetricsRow],
    abandoned: &'a [bool],
) -> impl Iterator<Item = &'a MetricsRow> {
    rows.iter()
        .zip(abandoned)
        .filter(|(_, a)| !**a)
        .map(|(r, _)| r)
}

/// The epochs of `grids` (the sample grids on disk, ascending) that a kept row has: the grids
/// of the surviving timeline. A grid past it shows what nothing else keeps: an abandoned
/// attempt's epoch that was not trained again, or an epoch whose row a kill left unwritten.
pub fn kept_grids(grids: &[u32], rows: &[MetricsRow], abandoned: &[bool]) -> Vec<u32> {
    let epochs: HashSet<u32> = kept(rows, abandoned).map(|r| r.epoch).collect();
    grids
        .iter()
        .copied()
        .filter(|e| epochs.contains(e))
        .collect()
}

/// Rows and rollback events for tests of what reads the timeline.
#[cfg(test)]
pub mod test_rows {
    use super::*;
    use crate::health::Kind;
    use crate::results::Taken;

    pub fn row(step: u64, epoch: u32, attempt: u32) -> MetricsRow {
        MetricsRow {
            step,
            epoch,
            attempt,
            ..MetricsRow::default()
        }
    }

    /// One row per epoch from 1 with the given swd (None: no evaluation that epoch), each
    /// epoch 1 s at 100 img/s.
    pub fn swd_rows(swds: &[Option<f64>]) -> Vec<MetricsRow> {
        swds.iter()
            .enumerate()
            .map(|(i, &swd)| MetricsRow {
                step: i as u64 + 1,
                epoch: i as u32 + 1,
                swd,
                seconds: 1.0,
                images_per_sec: 100.0,
                ..MetricsRow::default()
            })
            .collect()
    }

    /// A `kind` event logged at `epoch` (its step and onset too) that took `action` and
    /// restored nothing.
    pub fn event(epoch: u64, kind: Kind, action: Taken) -> EventRow {
        EventRow {
            step: epoch,
            epoch,
            kind: kind.into(),
            onset_epoch: epoch,
            action,
            restored_epoch: None,
            changes: String::new(),
            evidence: String::new(),
            escalation: 0,
        }
    }

    /// A g_failure rollback logged at `step` (epoch `epoch`, onset `onset`) to `restored`.
    pub fn rollback(step: u64, epoch: u64, onset: u64, restored: u64) -> EventRow {
        EventRow {
            step,
            onset_epoch: onset,
            restored_epoch: Some(restored),
            ..event(epoch, Kind::GFailure, Taken::Rollback)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_rows::{rollback, row};
    use super::*;
    use crate::results::Taken;

    #[test]
    fn rows_after_the_restored_epoch_are_abandoned() {
        // attempt 0: epochs 1..=6 (steps 1..=6), rolled back to 4;
        // attempt 1: epochs 5..=8 (steps 7..=10), rolled back to 2;
        // attempt 2: epochs 3..=4 (steps 11..=12).
        let mut rows: Vec<MetricsRow> = (1..=6).map(|e| row(e as u64, e, 0)).collect();
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
        let rows: Vec<MetricsRow> = (1..=3).map(|e| row(e as u64, e, 0)).collect();
        let mut e = rollback(3, 3, 1, 0);
        e.action = Taken::Continue;
        e.restored_epoch = None;
        assert_eq!(abandoned(&rows, &[e]), [false, false, false]);
    }

    #[test]
    fn grids_of_kept_rows_only() {
        // attempt 0: epochs 1..=6 (steps 1..=6), rolled back to 3; attempt 1: epochs 4..=5
        // (steps 7..=8). The grid of epoch 6 is attempt 0's (abandoned, not trained again) or
        // attempt 1's (killed after the grid, before its row): off the timeline either way.
        let mut rows: Vec<MetricsRow> = (1..=6).map(|e| row(e as u64, e, 0)).collect();
        rows.extend((4..=5).map(|e| row(e as u64 + 3, e, 1)));
        let abandoned = abandoned(&rows, &[rollback(6, 6, 5, 3)]);
        let cases: [(&[u32], &[u32], &str); 4] = [
            (&[1, 2, 3, 4, 5, 6], &[1, 2, 3, 4, 5], "a grid every epoch"),
            (&[2, 4, 6], &[2, 4], "a grid every other epoch"),
            (&[6], &[], "only a grid past the timeline"),
            (&[], &[], "no grids"),
        ];
        for (on_disk, want, why) in cases {
            assert_eq!(kept_grids(on_disk, &rows, &abandoned), want, "{why}");
        }
    }
}
