//! Training on libtorch: the nets, one epoch under either schedule, and the per-variant loop
//! with resume, checkpoints and automatic rollback.

pub mod augment;
pub mod device;
pub mod ema;
mod nets;
mod precision;
mod probe;
pub mod samples;
mod schedule;
mod seeds;
mod step;
mod variant;

pub use nets::{Nets, generate, net_config};
pub use precision::{set_tf32, tf32_enabled};
pub use probe::{Probe, probe};
pub use variant::{Job, Outcome, Progress, train};

use crate::data::DeviceImages;
use crate::health::RealReference;

/// Seeds the random sample of training images behind `real_reference`.
const REAL_REFERENCE_SEED: u64 = 0x5e_a1;

/// The real data's figures the degenerate-output check compares samples against, from a
/// seeded random sample of `samples::GRID` training images (the first ones of a sorted folder
/// would be one class, whose nearest neighbours are far closer than the data's).
pub fn real_reference(images: &DeviceImages) -> RealReference {
    let s = samples::stats(&images.sample(samples::GRID, REAL_REFERENCE_SEED));
    RealReference {
        sample_std: s.sample_std,
        image_std: s.image_std,
        nn_distance: s.nn_distance,
    }
}
