//! The training images (and their tags) live on the training device as u8; batches are cut
//! and scaled there, so an epoch does no decoding and no host copies.

use tch::{Device, Kind, Tensor};

use super::Dataset;
use super::tag_sampler::TagSampler;

pub struct DeviceImages {
    /// [n, 3, s, s] u8.
    images: Tensor,
    /// [n, n_tags] u8 multi-hot, when the dataset is labelled.
    tags: Option<Tensor>,
    /// Tags for fakes, drawn with the real frequencies; None when unlabelled.
    pub sampler: Option<TagSampler>,
    pub len: i64,
}

impl DeviceImages {
    /// `pixels` is [n, 3, size, size] planar RGB.
    pub fn upload(pixels: &[u8], len: usize, size: u32, device: Device) -> Self {
        let s = size as i64;
        let images = Tensor::from_slice(pixels)
            .view([len as i64, 3, s, s])
            .to_device(device);
        Self {
            images,
            tags: None,
            sampler: None,
            len: len as i64,
        }
    }

    /// A dataset's images and, when labelled, its tags.
    pub fn from_dataset(data: &Dataset, device: Device) -> Self {
        let mut out = Self::upload(&data.pixels, data.len, data.size, device);
        if let Some(vocab) = data.vocab.as_ref().filter(|v| !v.is_empty()) {
            let t = vocab.len() as i64;
            out.tags = Some(
                Tensor::from_slice(&data.tags)
                    .view([data.len as i64, t])
                    .to_device(device),
            );
            out.sampler = Some(TagSampler::new(vocab, &data.tags, device));
        }
        out
    }

    /// A fresh shuffle of all indices, from the current random stream.
    pub fn permutation(&self) -> Tensor {
        Tensor::randperm(self.len, (Kind::Int64, self.images.device()))
    }

    /// Images `order[start..start + b]`, scaled to [-1, 1]: [b, 3, s, s] f32.
    pub fn batch(&self, order: &Tensor, start: i64, b: i64) -> Tensor {
        let idx = order.narrow(0, start, b);
        to_unit_range(&self.images.index_select(0, &idx))
    }

    /// Tags of the same images as `batch`: [b, n_tags] f32; None when unlabelled.
    pub fn batch_tags(&self, order: &Tensor, start: i64, b: i64) -> Option<Tensor> {
        let idx = order.narrow(0, start, b);
        self.tags
            .as_ref()
            .map(|t| t.index_select(0, &idx).to_kind(Kind::Float))
    }

    /// A seeded random sample of `n` images (all of them when `n >= len`), scaled to [-1, 1]:
    /// [min(n, len), 3, s, s] f32. A reference set must be a sample, never the first `n`: a
    /// folder sorted by name holds one class after another. The draw uses its own stream
    /// (`seed`), so it depends on nothing torch drew before.
    pub fn sample(&self, n: i64, seed: u64) -> Tensor {
        let idx = sample_indices(self.len, n, seed);
        let idx = Tensor::from_slice(&idx).to_device(self.images.device());
        to_unit_range(&self.images.index_select(0, &idx))
    }

    /// Images `start..start + n` scaled to [-1, 1], and their tags (u8) when labelled.
    pub fn range(&self, start: i64, n: i64) -> (Tensor, Option<Tensor>) {
        (
            to_unit_range(&self.images.narrow(0, start, n)),
            self.tags.as_ref().map(|t| t.narrow(0, start, n)),
        )
    }

    pub fn size(&self) -> i64 {
        self.images.size()[2]
    }

    pub fn device(&self) -> Device {
        self.images.device()
    }
}

/// `min(n, len)` distinct indices of `0..len`, drawn with `seed`, ascending.
pub fn sample_indices(len: i64, n: i64, seed: u64) -> Vec<i64> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut all: Vec<i64> = (0..len).collect();
    all.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    all.truncate(n.clamp(0, len) as usize);
    all.sort_unstable();
    all
}

/// u8 [0, 255] -> f32 [-1, 1], G's tanh range.
fn to_unit_range(x: &Tensor) -> Tensor {
    x.to_kind(Kind::Float) / 127.5 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_seeded_distinct_and_spread_over_a_sorted_set() {
        let a = sample_indices(1000, 100, 3);
        assert_eq!(a, sample_indices(1000, 100, 3), "seeded");
        assert_ne!(a, sample_indices(1000, 100, 4));
        assert!(a.windows(2).all(|w| w[0] < w[1]), "distinct, ascending");
        // The first n of a set sorted into two halves would all come from the first half.
        let second_half = a.iter().filter(|&&i| i >= 500).count();
        assert!((30..=70).contains(&second_half), "{second_half} of 100");
        assert_eq!(sample_indices(5, 9, 0), [0, 1, 2, 3, 4], "n >= len: all");
    }
}
