//! The places a command writes, checked before it starts: on a cluster a colleague's sweep or a
//! read-only snapshot is often readable but not (all) writable (a read-only `charts/`, a run
//! folder or lock file of someone else's), and the user should hear that plainly (exit 2, the
//! path, what goes there and what to do instead), not as an error about a temporary or lock
//! file after part of the work is done.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::exit;
use crate::fsx::Place;

/// At most this many places are named; the rest are counted.
const NAMED: usize = 8;

/// A usage error naming every place in `places` that cannot be written, each with what the
/// command writes there, followed by `instead` (what the user can do). A folder that does not
/// exist yet is checked at the nearest folder above it. A file is made there to try it: one
/// with no name where the file system can (`O_TMPFILE`), so that nothing appears in the
/// folder, else one removed at once; nothing is left behind, and a dry run may check too. Any
/// refusal counts (permission, a read-only file system, a folder such as /proc where no file
/// can be made); what a write could meet later anyway (a full disk or quota, too many open
/// files) is left to the write that meets it.
pub fn check(places: &[Place], instead: &str) -> Result<()> {
    let mut probed = HashSet::new();
    let problems: Vec<String> = places
        .iter()
        .filter_map(|place| problem(place, &mut probed))
        .collect();
    match problems.len() {
        0 => Ok(()),
        1 => Err(exit::usage(format!("{}; {instead}", problems[0]))),
        n => {
            let mut lines: Vec<String> = problems
                .iter()
                .take(NAMED)
                .map(|p| format!("  - {p}"))
                .collect();
            if n > NAMED {
                lines.push(format!("  - and {} more", n - NAMED));
            }
            Err(exit::usage(format!(
                "{n} places cannot be written:\n{}\n{instead}",
                lines.join("\n")
            )))
        }
    }
}

/// Why `place` cannot be written, or None when it can (or was probed already: `probed` holds
/// the folders tried so far).
fn problem(place: &Place, probed: &mut HashSet<PathBuf>) -> Option<String> {
    match place {
        Place::Folder { path, what } => folder_problem(path, what, probed),
        Place::File { path, what } if path.exists() => {
            match std::fs::OpenOptions::new().write(true).open(path) {
                Err(e) if refuses(&e) => Some(format!(
                    "{} is not writable ({}): {what}",
                    path.display(),
                    reason(&e)
                )),
                _ => None,
            }
        }
        Place::File { path, what } => folder_problem(crate::fsx::parent_dir(path), what, probed),
    }
}

/// Why no file can be created or replaced in `dir`, where the command writes `what`.
fn folder_problem(dir: &Path, what: &str, probed: &mut HashSet<PathBuf>) -> Option<String> {
    let at = nearest_existing(dir);
    if !probed.insert(at.clone()) {
        return None;
    }
    if !at.is_dir() {
        return Some(format!(
            "{} is a file, not a folder: {what} at {}",
            at.display(),
            dir.display()
        ));
    }
    match tempfile::tempfile_in(&at) {
        Err(e) if refuses(&e) => Some(format!(
            "{} is not writable ({}): {what} there",
            at.display(),
            reason(&e)
        )),
        _ => foreign_in_sticky(&at).map(|file| {
            format!(
                "{} cannot be replaced (another user's file, in a folder where only a file's \
                 owner may replace it: mode +t): {what} in {}",
                file.display(),
                at.display()
            )
        }),
    }
}

/// In a sticky folder (mode +t) of another user only a file's owner may replace it: the first
/// file there of someone else's. Hidden files (lock files) are opened, never replaced, and are
/// checked as `Place::File`.
fn foreign_in_sticky(dir: &Path) -> Option<PathBuf> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let meta = std::fs::metadata(dir).ok()?;
    if me == 0 || meta.permissions().mode() & 0o1000 == 0 || meta.uid() == me {
        return None;
    }
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .find(|e| e.metadata().is_ok_and(|m| m.is_file() && m.uid() != me))
        .map(|e| e.path())
}

fn nearest_existing(dir: &Path) -> PathBuf {
    let mut at = dir;
    while !at.exists() {
        match at.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => at = parent,
            _ => return PathBuf::from("."),
        }
    }
    at.to_path_buf()
}

/// Whether `e`, met making or opening a file, says the place cannot be written: anything but
/// what may pass or a later write would meet anyway (space, quota, open files, memory, an
/// interrupted call, a failing disk).
fn refuses(e: &std::io::Error) -> bool {
    let passing = [
        libc::ENOSPC,
        libc::EDQUOT,
        libc::EMFILE,
        libc::ENFILE,
        libc::ENOMEM,
        libc::EINTR,
        libc::EAGAIN,
        libc::EIO,
    ];
    !e.raw_os_error().is_some_and(|n| passing.contains(&n))
}

fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::ReadOnlyFilesystem => "read-only file system".into(),
        _ => {
            // The system's words, without "(os error N)".
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or_default();
            format!("the system says: {}", text.to_lowercase())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_checked_where_it_would_be_created() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        assert!(check(&[Place::folder(&deep, "x")], "y").is_ok());
        assert!(!tmp.path().join("a").exists(), "the check creates nothing");
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "the probe leaves no file behind"
        );
    }

    #[test]
    fn a_folder_under_a_file_cannot_be_written() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("afile");
        std::fs::write(&file, b"").unwrap();
        let error = check(&[Place::folder(file.join("x"), "reports")], "y").unwrap_err();
        assert_eq!(crate::exit::code_of(&error), crate::exit::Exit::Usage);
        assert!(
            format!("{error}").contains("is a file, not a folder"),
            "{error}"
        );
    }

    #[test]
    fn a_folder_where_no_file_can_be_made_cannot_be_written() {
        // /proc refuses new files with "no such file or directory", to root too: neither a
        // permission nor a read-only file system, and it was let through (exit 1 after the
        // pace was measured, at the first write).
        if !Path::new("/proc/self").is_dir() {
            eprintln!("skipped: no /proc here");
            return;
        }
        let error = check(&[Place::folder("/proc/x/exp", "results")], "y").unwrap_err();
        assert_eq!(crate::exit::code_of(&error), crate::exit::Exit::Usage);
        let message = format!("{error}");
        assert!(
            message.starts_with("/proc is not writable (the system says: ")
                && message.ends_with("): results there; y"),
            "{message}"
        );
    }

    #[test]
    fn places_that_can_be_written_pass() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = tmp.path().join(".lock");
        std::fs::write(&lock, b"").unwrap();
        let places = [
            Place::folder(tmp.path(), "files"),
            Place::file(&lock, "its lock"),
            Place::file(tmp.path().join("new.csv"), "a log"),
        ];
        assert!(check(&places, "do something else").is_ok());
    }
}
