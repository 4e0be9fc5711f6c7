//! Training data: seed layout or image folder, decoded once into a cache, split into train and
//! holdout, and uploaded to the training device.
//!
//! `load` lists the source (`seed_layout`, `folder`), fingerprints it (`fingerprint`), reads the
//! decoded dataset from the cache or decodes it in parallel (`decode`, `prepare`) and writes the
//! cache (`cache`), then splits off a seeded holdout and training subset (`split`). `identity`
//! says which data a run trained on, `paths`
//! checks the `[data]` paths before a run writes anything. `DeviceImages` holds a split on the
//! training device as u8 (batches are cut and scaled there), `TagSampler` draws tags for fakes.

mod cache;
mod dataset;
mod decode;
mod device_images;
mod disk_names;
mod fingerprint;
mod folder;
mod from_config;
mod identity;
mod line_errors;
mod listing;
mod load;
mod options;
mod paths;
mod prepare;
mod seed_layout;
mod separators;
mod split;
mod tag_file;
mod tag_sampler;
mod vocab;

#[cfg(test)]
mod fixtures;

pub use dataset::{Dataset, LoadTimings, Loaded, Skipped};
pub use device_images::{DeviceImages, sample_indices};
pub use from_config::{
    DataRoot, load_dataset, synthetic_to_generate, training_images, training_split,
};
pub use identity::{DataIdentity, identity};
pub use load::load;
pub use options::{LoadOptions, Source};
pub use paths::check_data;
pub use tag_sampler::TagSampler;
pub use vocab::Vocabulary;
