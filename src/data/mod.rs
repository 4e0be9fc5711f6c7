//! Training data: seed layout or image folder, decoded once into a cache, split into train and holdout.
//!
//! `load` lists the source (`seed_layout`, `folder`), fingerprints it (`fingerprint`), reads the
//! decoded dataset from the cache or decodes it in parallel (`decode`, `prepare`) and writes the
//! cache (`cache`), then splits off a seeded holdout and training subset (`split`). `paths`
//! checks the `[data]` paths before a run writes anything.

mod cache;
mod dataset;
mod decode;
mod fingerprint;
mod folder;
mod from_config;
mod line_errors;
mod listing;
mod load;
mod options;
mod paths;
mod prepare;
mod seed_layout;
mod split;
mod vocab;

#[cfg(test)]
mod fixtures;

pub use dataset::{Dataset, LoadTimings, Loaded, Skipped};
pub use from_config::{DataRoot, load_dataset};
pub use load::load;
pub use options::{LoadOptions, Source};
pub use paths::check_paths;
pub use vocab::Vocabulary;
