//! `metrics.csv`: one row per trained epoch, appended and flushed as the epoch ends.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::fsx;

/// One epoch's figures. Column order is the CSV's; `seconds` and `images_per_sec` are the only
/// timing columns (everything else replays exactly on CPU).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MetricsRow {
    /// Epochs trained in all, never reset (abandoned attempts included).
    pub step: u64,
    pub epoch: u32,
    /// 0, then +1 after each rollback.
    pub attempt: u32,
    pub d_loss: f64,
    pub g_loss: f64,
    /// Mean of D's sigmoid output on real batches.
    pub d_acc_real: f64,
    /// 1 - mean of D's output on fake batches.
    pub d_acc_fake: f64,
    /// Mean of D's output on G's samples in the G phase.
    pub g_acc: f64,
    pub d_acc_real_hard: f64,
    pub d_acc_fake_hard: f64,
    pub g_acc_hard: f64,
    pub d_updates: u32,
    pub g_updates: u32,
    pub lr_g: f64,
    pub lr_d: f64,
    pub label_noise: f64,
    pub batch_size: u32,
    /// Mean per-pixel std across the fixed-noise samples; collapse drives it to 0.
    pub sample_std: f64,
    /// Mean over the fixed-noise samples of each image's own pixel std; a flat image has 0.
    pub sample_image_std: f64,
    /// A loss or weight was NaN/Inf this epoch.
    pub non_finite: bool,
    pub seconds: f64,
    pub images_per_sec: f64,
}

pub const TIMING_COLUMNS: &[&str] = &["seconds", "images_per_sec"];

/// Appends `row`, writing the header first when the file is new or empty.
pub fn append(path: &Path, row: &MetricsRow) -> Result<()> {
    let new = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
    let mut w = csv::WriterBuilder::new().has_headers(new).from_writer(Vec::new());
    w.serialize(row).expect("metrics row serializes");
    let bytes = w.into_inner().expect("in-memory writer");
    fsx::append_synced(path, &bytes)
}

pub fn read(path: &Path) -> Result<Vec<MetricsRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut r = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    r.deserialize()
        .enumerate()
        .map(|(i, row)| row.with_context(|| format!("{}: bad row {}", path.display(), i + 2)))
        .collect()
}

/// Keeps only rows with `step <= last_step` (rows after a checkpoint are replayed on resume).
pub fn truncate(path: &Path, last_step: u64) -> Result<Vec<MetricsRow>> {
    let rows: Vec<MetricsRow> = read(path)?.into_iter().filter(|r| r.step <= last_step).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in &rows {
        w.serialize(row).expect("metrics row serializes");
    }
    let bytes = w.into_inner().expect("in-memory writer");
    if rows.is_empty() {
        fsx::write_atomic(path, b"")?;
    } else {
        fsx::write_atomic(path, &bytes)?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u64) -> MetricsRow {
        MetricsRow {
            step,
            epoch: step as u32,
            attempt: 0,
            d_loss: 0.5,
            g_loss: 2.0,
            d_acc_real: 0.9,
            d_acc_fake: 0.8,
            g_acc: 0.1,
            d_acc_real_hard: 1.0,
            d_acc_fake_hard: 1.0,
            g_acc_hard: 0.0,
            d_updates: 10,
            g_updates: 10,
            lr_g: 2e-4,
            lr_d: 2e-4,
            label_noise: 0.1,
            batch_size: 64,
            sample_std: 0.3,
            sample_image_std: 0.4,
            non_finite: false,
            seconds: 1.5,
            images_per_sec: 100.0,
        }
    }

    #[test]
    fn append_read_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        for s in 1..=5 {
            append(&path, &row(s)).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 6, "one header and five rows");
        assert!(text.starts_with("step,epoch,attempt,"));
        let kept = truncate(&path, 3).unwrap();
        assert_eq!(kept.len(), 3);
        assert_eq!(read(&path).unwrap(), kept);
        append(&path, &row(4)).unwrap();
        assert_eq!(read(&path).unwrap().len(), 4);
        truncate(&path, 0).unwrap();
        append(&path, &row(1)).unwrap();
        assert_eq!(read(&path).unwrap(), vec![row(1)], "header rewritten after emptying");
    }
}
