//! Experiment files: the schema, layering (defaults < file < env < --set), validation, the grid.

mod experiment;
mod grid;
mod keys;
mod layers;
pub mod schema;
mod search;
mod sequence;
mod validate;

pub use experiment::{
    ConfigErrors, Experiment, Override, Overrides, Variant, as_identified, config_hash,
    overrides_line, resolve, resolve_prune, resolve_rollback, seed_hash,
};
pub use layers::leaves;
pub use schema::*;
pub use search::{Method, Sampled};
pub use validate::{MAX_THREADS, MIN_TRAINING_IMAGES, too_few_images};
