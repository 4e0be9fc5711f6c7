//! Network shapes: the configuration shared by every architecture, and the DCGAN pair.

pub mod aux_head;
mod cgan;
mod dcgan;
mod discriminator;
mod init;
pub mod ops;
pub mod spectral_norm;

pub use cgan::ProjectionD;
pub use dcgan::{discriminator, generator};
pub use discriminator::Discriminator;
pub use init::{init_weights, parameter_count};

/// What the networks are built from; `n_tags` is 0 for the DCGAN, the tag vector's length for
/// the CGAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetConfig {
    /// Side of the square RGB images, a power of two in 16..=256.
    pub image_size: i64,
    pub z_dim: i64,
    pub g_width: i64,
    pub d_width: i64,
    pub n_tags: i64,
}

impl Default for NetConfig {
    /// The original recipe: 64 px faces, z of 100, DCGAN widths 64/64.
    fn default() -> Self {
        NetConfig {
            image_size: 64,
            z_dim: 100,
            g_width: 64,
            d_width: 64,
            n_tags: 0,
        }
    }
}

impl NetConfig {
    /// Checks the constraints the builders rely on; call it before building to get an error
    /// instead of the builders' panic.
    pub fn validate(&self) -> anyhow::Result<()> {
        let s = self.image_size;
        anyhow::ensure!(
            (16..=256).contains(&s) && s.count_ones() == 1,
            "image_size {s} is not supported: use a power of two from 16 to 256 (16, 32, 64, 128, 256)"
        );
        for (name, v) in [
            ("z_dim", self.z_dim),
            ("g_width", self.g_width),
            ("d_width", self.d_width),
        ] {
            anyhow::ensure!(v >= 1, "{name} must be at least 1, got {v}");
        }
        anyhow::ensure!(
            self.n_tags >= 0,
            "n_tags must be 0 or more, got {}",
            self.n_tags
        );
        Ok(())
    }

    /// Number of resolution doublings between the 4x4 seed and the image: log2(image_size) - 2.
    /// G has this many batch-normed blocks (`up0`..) before `to_rgb`; D as many strided convs
    /// (`conv0`..) before `logit`.
    pub fn n_blocks(&self) -> i64 {
        i64::from(self.image_size.trailing_zeros()) - 2
    }
}
