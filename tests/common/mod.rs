//! Helpers shared by the integration tests that compare runs.

use std::path::Path;

/// metrics.csv of a run directory without its timing columns, one line per row: what two runs
/// of the same variant must agree on.
pub fn metrics_without_timing(run: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(run.join("metrics.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let keep: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !anigan_runner::store::metrics::TIMING_COLUMNS.contains(h))
        .map(|(i, _)| i)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            keep.iter().map(|&i| &r[i]).collect::<Vec<_>>().join(",")
        })
        .collect()
}
