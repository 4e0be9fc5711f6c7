//! What to load and how: the source and the loading settings.

use std::path::PathBuf;

/// Where the images come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The original dataset's layout: `tags.txt`, `filtered.txt` and `selected/<k>.jpg|png`.
    Seed { dir: PathBuf },
    /// Any folder tree of PNG/JPEG images, unlabelled unless `tags_file` is given (format in
    /// the `folder` module docs: `vocab:` lines, then `relative/path.png,tag,...` lines).
    Folder {
        dir: PathBuf,
        tags_file: Option<PathBuf>,
    },
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub source: Source,
    /// Side of the square images, in pixels.
    pub image_size: u32,
    /// Training images to use, chosen at random with `seed`; 0 = all.
    pub limit: usize,
    /// Real images kept out of training for evaluation, chosen with `seed` before `limit` applies.
    pub holdout: usize,
    /// Largest fraction of unreadable images tolerated (0.0 to 1.0).
    pub max_bad_fraction: f64,
    pub seed: u64,
    /// Folder of decoded-dataset cache files; created when missing.
    pub cache_dir: PathBuf,
}
