//! The reference figures of a dataset split, cached beside the decoded dataset
//! (`quality-v2-<dataset key>-<split>.json` in the cache folder), so that every run and worker
//! on that split reuses one measurement of the floors; and the split's lock
//! (`quality-<dataset key>-<split>.lock`), under which one process at a time trains the tag
//! classifier and measures those floors.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::fsx;
use crate::results::QualityReference;

fn path(cache_dir: &Path, key: &str, split: &str) -> PathBuf {
    cache_dir.join(format!("quality-v2-{key}-{split}.json"))
}

/// The cached reference, or None when there is none or it cannot be read (then it is
/// measured again).
pub fn read(cache_dir: &Path, key: &str, split: &str) -> Option<QualityReference> {
    let text = std::fs::read_to_string(path(cache_dir, key, split)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn write(cache_dir: &Path, key: &str, split: &str, reference: &QualityReference) -> Result<()> {
    let json = serde_json::to_string_pretty(reference).expect("reference serializes");
    fsx::write_atomic(&path(cache_dir, key, split), format!("{json}\n").as_bytes())
}

/// Takes the split's lock in `cache_dir`, held until the returned file drops. Runs started
/// together on one data folder that no parent prepared (`--jobs` and `slurm` warm it first)
/// would otherwise all train the tag classifier and measure the floors at once, clobbering each
/// other's cache files, and each would use its own copy: under the lock the first one does it
/// and caches it, and the others wait for it
/// (`note` says so) and read the cache, so every run of the split uses the same classifier and
/// floors. Errors: the lock file cannot be created or locked (a file system without locks).
pub fn lock(
    cache_dir: &Path,
    key: &str,
    split: &str,
    note: &mut dyn FnMut(String),
) -> Result<File> {
    std::fs::create_dir_all(cache_dir)
        .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    let path = cache_dir.join(format!("quality-{key}-{split}.lock"));
    fsx::lock_or_wait(
        &path,
        "waiting for another runner preparing the tag classifier and quality floors of this \
         dataset",
        note,
    )
}
