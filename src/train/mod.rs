//! Training on libtorch: the nets, one epoch under either schedule, and the per-variant loop
//! with resume, checkpoints and automatic rollback.

mod batches;
pub mod device;
mod nets;
mod precision;
pub mod samples;
mod schedule;
mod seeds;
mod step;
mod tags;
mod variant;

pub use batches::DeviceImages;
pub use nets::{Nets, generate, net_config};
pub use precision::{set_tf32, tf32_enabled};
pub use tags::TagSampler;
pub use variant::{Job, Outcome, epoch_stats, train};

use crate::health::RealReference;

/// The real data's figures the degenerate-output check compares samples against.
pub fn real_reference(images: &DeviceImages) -> RealReference {
    let s = samples::stats(&images.first(samples::GRID));
    RealReference {
        sample_std: s.sample_std,
        image_std: s.image_std,
        nn_distance: s.nn_distance,
    }
}
