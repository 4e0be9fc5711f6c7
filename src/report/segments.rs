//! Drawing a run's timeline: where an episode began and the pieces a chart draws as separate
//! lines (which rows are abandoned comes from `results`).

use crate::results::{EventRow, MetricsRow};

/// Step at which an event's episode began: `onset_epoch` on the event's own timeline.
pub fn onset_step(event: &EventRow) -> u64 {
    event
        .step
        .saturating_sub(event.epoch.saturating_sub(event.onset_epoch))
}

/// Maximal runs of consecutive rows with the same (abandoned, attempt), as index ranges, so a
/// chart can draw each as its own line: no line joins a rolled-back epoch to the restored one.
pub fn pieces(rows: &[MetricsRow], abandoned: &[bool]) -> Vec<(std::ops::Range<usize>, bool)> {
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
    use crate::results::test_rows::{rollback, row};

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
