//! What identifies a dataset in a run's records: the content key its decoded cache is named by
//! (every image's bytes, its tags, the image size and how this release decodes them) and the
//! number of images listed. A resume on other data would split the images differently (the
//! holdout is a seeded permutation of their count), train on held-out ones and measure against
//! another floor: `sweep::same_data` compares a run's record with the data as it is now.

use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::fingerprint;
use super::folder;
use super::from_config::DataRoot;
use super::seed_layout;
use crate::config::{DataSection, DataSource};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DataIdentity {
    /// Hex blake3 content key (`fingerprint::key`).
    pub key: String,
    /// Images the source lists (unreadable ones, skipped when it loads, included).
    pub images: usize,
}

/// The identity of `d`'s dataset as it is on disk now, without decoding: file stats are
/// remembered beside the cache, so only changed files are read. None for a synthetic set not
/// generated yet (generated from settings the variant id holds, so it comes back the same).
/// Errors: the source cannot be listed (`check_data` reports that first).
pub fn identity(d: &DataSection, root: &DataRoot) -> Result<Option<DataIdentity>> {
    let listing = match d.source {
        DataSource::Synthetic => {
            let dir = match d.path.is_empty() {
                true => root.synthetic(d),
                false => d.path.clone().into(),
            };
            if !dir.join("filtered.txt").exists() {
                return Ok(None);
            }
            seed_layout::list(&dir)?
        }
        DataSource::Seed => seed_layout::list(Path::new(&d.path))?,
        DataSource::Folder => {
            let tags = (!d.tags_file.is_empty()).then(|| Path::new(&d.tags_file));
            // Its warnings come again when the run loads it.
            folder::list(Path::new(&d.path), tags, &mut |_| {})?
        }
    };
    let key = fingerprint::remembered_key(&listing, d.image_size, &root.cache());
    Ok(Some(DataIdentity {
        key: key.to_hex().to_string(),
        images: listing.items.len(),
    }))
}
