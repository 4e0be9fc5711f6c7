//! Quality figures that need no downloaded network: sliced Wasserstein distance on Laplacian
//! pyramids, sample diversity, and a tag classifier trained once per dataset (tag accuracy,
//! Fréchet distance in its features, KL divergence of the tag distributions).

pub mod classifier;
pub mod quality;
pub mod reference_cache;
pub mod swd;

pub use classifier::{TagClassifier, load_or_train};
pub use quality::{Evaluator, Quality};
