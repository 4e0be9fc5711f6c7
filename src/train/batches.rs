//! The training images live on the training device as u8; batches are cut and scaled there,
//! so an epoch does no decoding and no host copies.

use tch::{Device, Kind, Tensor};

pub struct DeviceImages {
    /// [n, 3, s, s] u8.
    images: Tensor,
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
            len: len as i64,
        }
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

    /// The first `n` images (a fixed reference set), scaled to [-1, 1].
    pub fn first(&self, n: i64) -> Tensor {
        to_unit_range(&self.images.narrow(0, 0, n.min(self.len)))
    }
}

/// u8 [0, 255] -> f32 [-1, 1], G's tanh range.
fn to_unit_range(x: &Tensor) -> Tensor {
    x.to_kind(Kind::Float) / 127.5 - 1.0
}
