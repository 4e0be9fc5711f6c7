//! A run's event files: names that sort in the order the files were written (the order
//! tensorboard reads them in), the open file being appended to, and the cut-back that makes the
//! files on disk hold only what survives a resume or rollback.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use prost::Message;

use super::proto::{Event, EventHead, What};
use super::record;
use crate::fsx;

/// The name every event file starts with; tensorboard takes any file whose name contains
/// "tfevents" (`backend/event_processing/io_wrapper.py`, `data/server/logdir.rs`).
pub const PREFIX: &str = "events.out.tfevents.";

/// The first record's `file_version`: version 2 makes tensorboard's EventAccumulator purge on a
/// `SessionLog.START` (`backend/event_processing/event_accumulator.py`).
pub const FILE_VERSION: &str = "brain.Event:2";

/// The event files of `dir` in reading order (by name), other files left out.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if entry.file_name().to_string_lossy().starts_with(PREFIX) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// A new file's name, `events.out.tfevents.<seconds, 10 digits>.anigan-runner.<pid>`, that
/// sorts after every name in `existing`: tensorboard reads files by name and never goes back
/// to an earlier one, so when the clock gives a name that would not come last (a resume within
/// the same second, a clock set back) the seconds are counted on from the last file's.
pub fn next_name(existing: &[PathBuf], now_secs: u64, pid: u32) -> String {
    let name = |secs: u64| format!("{PREFIX}{secs:010}.anigan-runner.{pid}");
    let last = existing
        .iter()
        .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
        .max();
    let Some(last) = last else {
        return name(now_secs);
    };
    let last_secs = last
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.get(..10))
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let mut secs = now_secs.max(last_secs);
    while name(secs) <= last {
        secs += 1;
    }
    name(secs)
}

/// An event file open for appending. Each `append` is one write of whole records, so a killed
/// process leaves at most one torn record at the end, which `retain` drops.
pub struct EventFile {
    path: PathBuf,
    file: File,
}

impl EventFile {
    /// Creates `path` (which must not exist) with its `file_version` record.
    pub fn create(path: &Path, wall_time: f64) -> Result<Self> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut f = EventFile {
            path: path.to_path_buf(),
            file,
        };
        f.append(&[Event {
            wall_time,
            step: 0,
            what: Some(What::FileVersion(FILE_VERSION.to_string())),
        }])?;
        fsx::sync_dir(fsx::parent_dir(path))?;
        Ok(f)
    }

    /// Writes `events` as records, in one write.
    pub fn append(&mut self, events: &[Event]) -> Result<()> {
        let mut bytes = Vec::new();
        for e in events {
            record::frame(&e.encode_to_vec(), &mut bytes);
        }
        self.file
            .write_all(&bytes)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Makes what was appended durable (fdatasync), as metrics.csv's rows are.
    pub fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .with_context(|| format!("cannot fsync {}", self.path.display()))
    }
}

/// Cuts every event file of `dir` back to the records `keep` accepts, in order, and returns
/// those records' heads. A file losing records (or holding a torn tail) is rewritten atomically,
/// one left with nothing but its `file_version` is removed, the others
/// are not touched. A record that does not decode ends its file, like a torn one.
pub fn retain(dir: &Path, keep: impl Fn(&EventHead) -> bool) -> Result<Vec<EventHead>> {
    let mut kept_heads = Vec::new();
    for path in list(dir)? {
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let records = record::records(&bytes);
        let mut damaged = records.torn_tail;
        let mut kept = Vec::new();
        let mut has_data = false;
        for (frame, data) in &records.frames {
            let Ok(head) = EventHead::decode(&bytes[data.clone()]) else {
                damaged = true;
                break;
            };
            if keep(&head) {
                has_data |= head.file_version.is_empty();
                kept.push(frame.clone());
                kept_heads.push(head);
            }
        }
        if !damaged && kept.len() == records.frames.len() {
            continue;
        }
        if !has_data {
            fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            continue;
        }
        let mut out = Vec::with_capacity(bytes.len());
        for frame in kept {
            out.extend_from_slice(&bytes[frame]);
        }
        replace(&path, &out)?;
    }
    fsx::sync_dir(dir)?;
    Ok(kept_heads)
}

/// Replaces `path` with `bytes` atomically, through a temp file whose name lacks "tfevents":
/// `fsx::write_atomic`'s temp name keeps the file's, and a reader listing the folder meanwhile
/// would take the copy for another event file of the run.
fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = fsx::temp_named(path, ".cut-")?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    fsx::commit(tmp, path)
}

/// Removes every event file of `dir`.
pub fn remove_all(dir: &Path) -> Result<()> {
    for path in list(dir)? {
        fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    }
    fsx::sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_names_sort_after_the_existing_ones() {
        let p = |n: &str| PathBuf::from(n);
        type Case<'a> = (&'a [PathBuf], u64, u32, &'a str, &'a str);
        let cases: [Case; 4] = [
            (
                &[],
                1_700_000_000,
                42,
                "events.out.tfevents.1700000000.anigan-runner.42",
                "first file",
            ),
            (
                &[p("events.out.tfevents.1700000000.anigan-runner.42")],
                1_700_000_500,
                7,
                "events.out.tfevents.1700000500.anigan-runner.7",
                "a later second",
            ),
            (
                &[p("events.out.tfevents.1700000000.anigan-runner.9")],
                1_700_000_000,
                10,
                "events.out.tfevents.1700000001.anigan-runner.10",
                "same second, pid 10 sorts before 9: next second",
            ),
            (
                &[p("events.out.tfevents.1700000900.anigan-runner.9")],
                1_700_000_000,
                9,
                "events.out.tfevents.1700000901.anigan-runner.9",
                "clock set back: after the last file",
            ),
        ];
        for (existing, now, pid, want, why) in cases {
            assert_eq!(next_name(existing, now, pid), want, "{why}");
        }
    }
}
