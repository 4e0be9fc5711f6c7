//! Crash-safe file writes: a reader (or a crash) sees the old file or the whole new one, never
//! a part. Every file the runner writes goes through here, with the permissions any other
//! program's new file would get (0666 less the umask), or those of the file it replaces.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tempfile::NamedTempFile;

/// A place a command writes, named before it starts so that one it cannot write is told at
/// once (`commands::writable::check`), with `what` it writes there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A folder where files are created and replaced (`write_atomic`: a temp file renamed over
    /// the old one); created with its parents when missing.
    Folder { path: PathBuf, what: String },
    /// A file opened for writing where it is: a lock file, an appended log.
    File { path: PathBuf, what: String },
}

impl Place {
    pub fn folder(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        Place::Folder {
            path: path.into(),
            what: what.into(),
        }
    }

    pub fn file(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        Place::File {
            path: path.into(),
            what: what.into(),
        }
    }
}

/// Writes `bytes` to `path` via a temp file beside it: write, fsync, rename, fsync the folder.
/// Missing parent folders are created.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_dir(path);
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    commit(tmp, path)
}

/// An empty temp file in `path`'s folder (so the final rename stays on one file system),
/// named `.<file name>.<random>.tmp`; deleted if dropped before `commit`.
pub fn temp_beside(path: &Path) -> Result<NamedTempFile> {
    let name = path
        .file_name()
        .with_context(|| format!("{} does not name a file", path.display()))?
        .to_string_lossy();
    temp_named(path, &format!(".{name}."))
}

/// An empty temp file in `path`'s folder named `<prefix><random>.tmp`, for `commit` to `path`:
/// readable as `path` will be. A new file gets mode 0666 less the process's umask, as any
/// program's new file does (tempfile's own 0600 would hide reports, checkpoints and caches
/// from the group and others on a shared file system); a file it replaces keeps its mode.
pub fn temp_named(path: &Path, prefix: &str) -> Result<NamedTempFile> {
    let tmp = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".tmp")
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(parent_dir(path))
        .with_context(|| format!("cannot create a temporary file next to {}", path.display()))?;
    if let Ok(existing) = fs::metadata(path) {
        let mode = existing.permissions().mode() & 0o7777;
        tmp.as_file()
            .set_permissions(Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of {}", tmp.path().display()))?;
    }
    Ok(tmp)
}

/// Flushes `tmp` to disk, renames it to `path` and makes the rename durable.
pub fn commit(tmp: NamedTempFile, path: &Path) -> Result<()> {
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot fsync {}", tmp.path().display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot rename a temporary file to {}", path.display()))?;
    sync_dir(parent_dir(path))
}

/// Writes `bytes` to `path` only if no file is there: a temp file beside it (write, fsync) is
/// hard-linked to `path`, which fails rather than replaces; then the folder is fsynced. A reader
/// (or a crash) sees no file or the whole one. Returns false when `path` already existed (its
/// content is left as it was). Missing parent folders are created.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<bool> {
    let dir = parent_dir(path);
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    let created = match fs::hard_link(tmp.path(), path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => {
            return Err(e).with_context(|| format!("cannot create {}", path.display()));
        }
    };
    drop(tmp); // the temp name goes; the link keeps the data
    sync_dir(dir)?;
    Ok(created)
}

/// Opens (creating it) the lock file `path`, never truncating it: a holder may have written
/// its name there. The caller takes the lock (`File::lock`, `try_lock`).
pub fn open_lock_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Takes the lock of the lock file `path` (created if missing), waiting for its holder; when it
/// must wait, `note` is told `waiting` first, so a user sees why nothing moves.
pub fn lock_or_wait(path: &Path, waiting: &str, note: &mut dyn FnMut(String)) -> Result<File> {
    let file = open_lock_file(path)?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => note(format!("{waiting} ({})", path.display())),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(file)
}

/// Removes the temp files (`.<name>.<random>.tmp`, from `temp_beside`) that writers killed
/// before their rename left in `dir` (not below it). Call only under the lock of whatever
/// writes there, so that no live writer's file goes. Returns how many went; one that cannot be
/// removed is left (a leftover costs disk space, not correctness).
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with('.')
                && name.ends_with(".tmp")
                && e.file_type().is_ok_and(|t| t.is_file())
        })
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
}

/// Makes renames, creations and removals in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot fsync directory {}", dir.display()))
}

/// Appends `bytes` (whole lines) to `path` and flushes them to disk: a log row is either
/// wholly there after a crash or not at all (short rows fit one write).
pub fn append_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_data())
        .with_context(|| format!("cannot append to {}", path.display()))
}

/// Reads the JSON file at `path` as a `T`; `None` when there is no such file. `what` names the
/// kind of file in the error ("status file", "experiment manifest").
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<Option<T>> {
    if !path.exists() {
        return Ok(None);
    }
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .map(Some)
        .with_context(|| format!("{} is not a valid {what}", path.display()))
}

/// `read_json` for a file this program wrote atomically, which only outside damage (a partial
/// copy, a lost disk block) makes unreadable, and which the caller can do without: such a file
/// reads as absent, with a warning that names it and says `instead` (what is used in its
/// place). A file that cannot be opened at all is still an error.
pub fn read_json_or_warn<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
    instead: &str,
) -> Result<Option<T>> {
    if !path.exists() {
        return Ok(None);
    }
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(value) => Ok(Some(value)),
        Err(e) => {
            // Once per file and process: a command reads a run's files more than once.
            static WARNED: std::sync::Mutex<Vec<std::path::PathBuf>> =
                std::sync::Mutex::new(Vec::new());
            let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
            if !warned.iter().any(|p| p == path) {
                warned.push(path.to_path_buf());
                eprintln!(
                    "warning: {} is not a valid {what} ({e}); {instead}",
                    path.display()
                );
            }
            Ok(None)
        }
    }
}

pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temps_go_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A writer killed before its rename left its temp; a kept file and a hidden file of
        // another kind stay, as does anything in a subfolder.
        let killed = temp_beside(&d.join("epoch-0006.safetensors")).unwrap();
        let (_, killed) = killed.keep().unwrap();
        fs::write(d.join("epoch-0003.safetensors"), b"kept").unwrap();
        fs::write(d.join(".lock"), b"").unwrap();
        fs::create_dir(d.join(".sub.tmp")).unwrap();
        assert_eq!(remove_stale_temps(d), 1);
        assert!(!killed.exists());
        let mut names: Vec<_> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".lock", ".sub.tmp", "epoch-0003.safetensors"]);
    }

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.json"], "temp files left behind");
    }

    #[test]
    fn write_new_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/decision.json");
        assert!(write_new(&path, b"first").unwrap());
        assert!(!write_new(&path, b"second").unwrap(), "already there");
        assert_eq!(fs::read(&path).unwrap(), b"first");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["decision.json"], "temp files left behind");
    }

    #[test]
    fn append_adds_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        append_synced(&path, b"a\n").unwrap();
        append_synced(&path, b"b\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a\nb\n");
    }
}
