//! Helpers shared by the integration tests that compare runs: files read through the
//! runner's own reader (`anigan_runner::results`), never split by hand.

use std::path::Path;

use anigan_runner::results::{EventRow, MetricsRow, RunDir, metrics};

/// metrics.csv of a run directory with its timing figures cleared, one row per epoch: what
/// two runs of the same variant must agree on.
pub fn metrics_without_timing(run: &Path) -> Vec<MetricsRow> {
    metrics::read(&RunDir::at(run).metrics())
        .unwrap()
        .into_iter()
        .map(MetricsRow::without_timing)
        .collect()
}

/// events.csv of a run directory (none when there is no file).
#[allow(dead_code)] // not every test file that shares this module reads events
pub fn events(run: &Path) -> Vec<EventRow> {
    anigan_runner::results::reader::read_events(&RunDir::at(run)).unwrap()
}
