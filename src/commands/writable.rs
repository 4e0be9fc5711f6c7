//! The results folder a command writes into, checked before it starts: on a cluster a
//! colleague's sweep or a read-only snapshot is often readable but not writable, and the user
//! should hear that plainly (exit 2), not as an error about a temporary or lock file.

use std::io::ErrorKind;
use std::path::Path;

use anyhow::Result;

use crate::exit;

/// A usage error when `dir` (or, while it does not exist yet, the nearest folder above it)
/// cannot be written: `writes` says what the command writes there, `instead` what the user can
/// do. Other errors (a full disk, say) are left to the write that meets them.
pub fn check(dir: &Path, writes: &str, instead: &str) -> Result<()> {
    let mut at = dir;
    while !at.exists() {
        match at.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => at = parent,
            _ => {
                at = Path::new(".");
                break;
            }
        }
    }
    match tempfile::Builder::new()
        .prefix(".write-check")
        .tempfile_in(at)
    {
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            Err(exit::usage(format!(
                "{} is not writable ({e}): {writes} there; {instead}",
                at.display()
            )))
        }
        _ => Ok(()),
    }
}
