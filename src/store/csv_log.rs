//! Append-only CSV logs (metrics.csv, events.csv): rows are appended and flushed one at a time,
//! and cut back atomically when a resumed run replays from a checkpoint.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::fsx;

/// Appends `row`, writing the header first when the file is new or empty.
pub fn append<T: Serialize>(path: &Path, row: &T) -> Result<()> {
    let new = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
    let mut w = csv::WriterBuilder::new()
        .has_headers(new)
        .from_writer(Vec::new());
    w.serialize(row).context("row serializes to CSV")?;
    let bytes = w.into_inner().expect("in-memory writer");
    fsx::append_synced(path, &bytes)
}

/// Every row of `path`; a missing file has none.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    r.deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.with_context(|| format!("{}: bad row on line {}", path.display(), i + 2))
        })
        .collect()
}

/// Rewrites `path` atomically with only the rows `keep` accepts; returns them.
pub fn retain<T: Serialize + DeserializeOwned>(
    path: &Path,
    keep: impl Fn(&T) -> bool,
) -> Result<Vec<T>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let rows: Vec<T> = read::<T>(path)?.into_iter().filter(|r| keep(r)).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in &rows {
        w.serialize(row).context("row serializes to CSV")?;
    }
    // With no rows the csv writer writes no header either: the next append starts afresh.
    fsx::write_atomic(path, &w.into_inner().expect("in-memory writer"))?;
    Ok(rows)
}
