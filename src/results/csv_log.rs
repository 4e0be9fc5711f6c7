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

/// Numeric columns a row carries beside its struct's fields, whose names depend on the data
/// (one per tag group): (column name, value; None is an empty cell).
pub type Extra = Vec<(String, Option<f64>)>;

/// `append` for a row with `extra` columns, placed right after the struct's column `after`.
/// Every row of one file must carry the same extra columns.
pub fn append_with<T: Serialize>(path: &Path, row: &T, extra: &Extra, after: &str) -> Result<()> {
    let new = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
    let (header, values) = spliced(row, extra, after)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    if new {
        w.write_record(&header).context("CSV header")?;
    }
    w.write_record(&values).context("CSV row")?;
    fsx::append_synced(path, &w.into_inner().expect("in-memory writer"))
}

/// Rewrites `path` atomically with `rows`, each with its extra columns (see `append_with`).
pub fn rewrite_with<T: Serialize>(
    path: &Path,
    rows: &[T],
    extra: impl Fn(&T) -> &Extra,
    after: &str,
) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for (i, row) in rows.iter().enumerate() {
        let (header, values) = spliced(row, extra(row), after)?;
        if i == 0 {
            w.write_record(&header).context("CSV header")?;
        }
        w.write_record(&values).context("CSV row")?;
    }
    // With no rows there is no header either: the next append starts afresh.
    fsx::write_atomic(path, &w.into_inner().expect("in-memory writer"))
}

/// The header and cells of `row` with `extra` inserted after the column `after` (at the end
/// when there is no such column).
fn spliced<T: Serialize>(
    row: &T,
    extra: &Extra,
    after: &str,
) -> Result<(Vec<String>, Vec<String>)> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(row).context("row serializes to CSV")?;
    let bytes = w.into_inner().expect("in-memory writer");
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let mut header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
    let record = r.records().next().context("a serialized row")??;
    let mut values: Vec<String> = record.iter().map(str::to_string).collect();
    let at = header
        .iter()
        .position(|h| h == after)
        .map_or(header.len(), |i| i + 1);
    for (k, (name, value)) in extra.iter().enumerate() {
        header.insert(at + k, name.clone());
        values.insert(at + k, value.map_or(String::new(), |v| v.to_string()));
    }
    Ok((header, values))
}

/// The lines of a log this program appended, without a torn last one: every append ends with
/// a newline, so text after the last newline is a row a crash or kill cut off mid-write (or a
/// partial copy). It was never written as far as a reader is concerned; a resumed run replays
/// that epoch from its checkpoint anyway.
pub fn complete_lines(text: &str) -> &str {
    text.rfind('\n').map_or("", |end| &text[..=end])
}

/// Every row of `path` (a torn last row left out: see `complete_lines`); a missing file has
/// none.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut r = csv::Reader::from_reader(complete_lines(&text).as_bytes());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_row_is_not_a_row() {
        let rows = [
            ("h\n1,2\n", "h\n1,2\n", "whole rows"),
            ("h\n1,2\n3,", "h\n1,2\n", "the last row cut off mid-write"),
            (
                "h\n1,2\n3,4",
                "h\n1,2\n",
                "a row without its newline was never appended whole",
            ),
            ("h,", "", "the header itself cut off"),
            ("", "", "empty"),
        ];
        for (text, want, why) in rows {
            assert_eq!(complete_lines(text), want, "{why}");
        }
    }
}
