//! From `[data]` settings to a loaded dataset: generates the synthetic faces on first use,
//! then loads through the decoded-dataset cache.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::{LoadOptions, Loaded, Source, load};
use crate::config::{DataSection, DataSource};
use crate::progress;
use crate::synth::{self, SynthOptions};

/// Where generated datasets and cache files go (`data/` by default).
#[derive(Debug, Clone)]
pub struct DataRoot(pub PathBuf);

impl DataRoot {
    pub fn cache(&self) -> PathBuf {
        self.0.join("cache")
    }

    /// The folder a synthetic dataset with these settings is generated into.
    pub fn synthetic(&self, d: &DataSection) -> PathBuf {
        self.0.join("synthetic").join(format!(
            "faces-{}x{}px-seed{}",
            d.synthetic_count, d.image_size, d.seed
        ))
    }
}

/// The dataset folder `d` names; a missing synthetic one is generated first.
pub fn source(d: &DataSection, root: &DataRoot) -> Result<Source> {
    let given = (!d.path.is_empty()).then(|| PathBuf::from(&d.path));
    Ok(match d.source {
        DataSource::Synthetic => {
            let dir = given.unwrap_or_else(|| root.synthetic(d));
            if !dir.join("filtered.txt").exists()
                && let Err(e) = generate(&dir, d)
                && !dir.join("filtered.txt").exists()
            {
                // (Another runner generating the same dataset at the same time is no error.)
                return Err(e);
            }
            Source::Seed { dir }
        }
        DataSource::Seed => Source::Seed {
            dir: required(given, "seed")?,
        },
        DataSource::Folder => Source::Folder {
            dir: required(given, "folder")?,
            tags_file: (!d.tags_file.is_empty()).then(|| PathBuf::from(&d.tags_file)),
        },
    })
}

fn required(path: Option<PathBuf>, source: &str) -> Result<PathBuf> {
    match path {
        Some(p) => Ok(p),
        None => bail!("[data] source = \"{source}\" needs [data] path: the dataset's folder"),
    }
}

fn generate(dir: &Path, d: &DataSection) -> Result<()> {
    let count = d.synthetic_count as usize;
    let bar = progress::counter(
        count as u64,
        &format!("generating {count} synthetic faces ({} px)", d.image_size),
    );
    let opts = SynthOptions {
        count,
        size: d.image_size,
        seed: d.seed,
    };
    synth::generate(dir, &opts, &|done| bar.advance_to(done as u64))?;
    bar.finish();
    Ok(())
}

/// Loads the dataset `d` describes, with warnings (skipped images) sent to `warn`.
pub fn load_dataset(
    d: &DataSection,
    root: &DataRoot,
    warn: &mut dyn FnMut(String),
) -> Result<Loaded> {
    let opts = LoadOptions {
        source: source(d, root)?,
        image_size: d.image_size,
        limit: d.limit as usize,
        holdout: d.holdout as usize,
        max_bad_fraction: d.max_bad_fraction,
        seed: d.seed,
        cache_dir: root.cache(),
    };
    load(&opts, warn)
}
