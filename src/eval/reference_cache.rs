//! The reference figures of a dataset split, cached beside the decoded dataset
//! (`quality-v2-<dataset key>-<split>.json` in the cache folder), so that every run and worker
//! on that split reuses one measurement of the floors.

use std::path::{Path, PathBuf};

use anyhow::Result;

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
