//! Experiment files: the schema, layering (defaults < file < env < --set), validation, the grid.

mod experiment;
mod grid;
mod keys;
mod layers;
pub mod schema;
mod validate;

pub use experiment::{
    ConfigErrors, Experiment, Overrides, Variant, config_hash, resolve, resolve_rollback, seed_hash,
};
pub use schema::*;
