//! A listed source: its image files in dataset order, their tags and the vocabulary.

use std::path::{Path, PathBuf};

use super::vocab::Vocabulary;

#[derive(Debug)]
pub(super) struct Item {
    pub path: PathBuf,
    /// Path relative to the source folder with `/` separators: stable across moves of the folder.
    pub rel: String,
    /// Multi-hot `[vocab.len()]`; empty when unlabelled.
    pub tags: Vec<u8>,
}

#[derive(Debug)]
pub(super) struct Listing {
    pub root: PathBuf,
    pub vocab: Option<Vocabulary>,
    pub items: Vec<Item>,
}

/// `path` relative to `root`, `/`-separated.
/// The identity of the file behind `path` (device, inode; links followed), where the system
/// tells it: two paths with one identity are one image.
pub(super) fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

pub(super) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}
