//! The fixed-noise sample grid: an 8x8 PNG per sampled epoch, and the figures that reveal
//! collapse in it (variety across samples, contrast within each).

use image::{Rgb, RgbImage};
use tch::{Kind, Tensor};

/// Samples per grid (8x8).
pub const GRID: i64 = 64;
const COLUMNS: u32 = 8;
const GAP: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleStats {
    /// Mean over pixels of the std across samples: 0 when every sample is the same image.
    pub sample_std: f64,
    /// Mean over samples of each image's own pixel std: 0 for flat single-colour images.
    pub image_std: f64,
    /// Mean over samples of the L2 distance to the nearest other sample, at `NN_SIDE` px:
    /// near 0 when the samples come in copies (mode collapse), whatever their spread.
    pub nn_distance: f64,
}

/// Side the samples are averaged down to before nearest-neighbour distances: the layout of a
/// face (hair, eyes, background), not pixel noise, decides whether two samples differ.
pub const NN_SIDE: i64 = 8;

/// `x`: [n, 3, s, s] in [-1, 1].
pub fn stats(x: &Tensor) -> SampleStats {
    let n = x.size()[0];
    let across = x.std_dim(0, false, false).mean(Kind::Float);
    let within = x.view([n, -1]).std_dim(1, false, false).mean(Kind::Float);
    let nn = nn_distance(x);
    let v = Vec::<f64>::try_from(Tensor::stack(&[across, within, nn], 0).to_kind(Kind::Double))
        .expect("stats copy to host");
    SampleStats {
        sample_std: v[0],
        image_std: v[1],
        nn_distance: v[2],
    }
}

/// Mean nearest-neighbour distance (a 0-dim tensor) of `x` ([n, 3, s, s], n >= 2) averaged down
/// to `NN_SIDE` px, per pixel value: sqrt(mean squared difference).
fn nn_distance(x: &Tensor) -> Tensor {
    let n = x.size()[0];
    let small = x
        .to_kind(Kind::Float)
        .adaptive_avg_pool2d([NN_SIDE, NN_SIDE])
        .view([n, -1]); // [n, 3 * 8 * 8]
    let dims = small.size()[1] as f64;
    let d = Tensor::cdist(&small, &small, 2.0, None::<i64>) / dims.sqrt(); // [n, n]
    let diagonal = Tensor::eye(n, (Kind::Float, x.device())) * 1e9;
    (d + diagonal).amin(1, false).mean(Kind::Float)
}

/// Lays `x` ([n, 3, s, s] in [-1, 1]) out as a grid of 8 columns on a grey background.
pub fn grid_image(x: &Tensor) -> RgbImage {
    let size = x.size();
    let (n, s) = (size[0] as u32, size[2] as u32);
    let pixels: Vec<u8> = Vec::try_from(
        ((x.to_device(tch::Device::Cpu).clamp(-1.0, 1.0) + 1.0) * 127.5)
            .round()
            .to_kind(Kind::Uint8)
            .permute([0, 2, 3, 1]) // [n, s, s, 3]
            .contiguous()
            .view(-1),
    )
    .expect("pixels copy to host");
    let rows = n.div_ceil(COLUMNS);
    let side = |k: u32| k * s + (k + 1) * GAP;
    let mut img = RgbImage::from_pixel(side(COLUMNS), side(rows), Rgb([40, 40, 40]));
    for (i, face) in pixels.chunks_exact((s * s * 3) as usize).enumerate() {
        let (col, row) = (i as u32 % COLUMNS, i as u32 / COLUMNS);
        let (x0, y0) = (GAP + col * (s + GAP), GAP + row * (s + GAP));
        for (j, px) in face.chunks_exact(3).enumerate() {
            let (dx, dy) = (j as u32 % s, j as u32 / s);
            img.put_pixel(x0 + dx, y0 + dy, Rgb([px[0], px[1], px[2]]));
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples_have_no_variety_and_flat_ones_no_contrast() {
        let same = Tensor::rand([1, 3, 8, 8], (Kind::Float, tch::Device::Cpu)).repeat([4, 1, 1, 1]);
        let s = stats(&same);
        assert!(s.sample_std < 1e-6 && s.image_std > 0.1, "{s:?}");
        let flat = Tensor::rand([4, 3, 1, 1], (Kind::Float, tch::Device::Cpu)).repeat([1, 1, 8, 8]);
        let f = stats(&flat);
        assert!(f.image_std < 0.6 && f.sample_std > 0.05, "{f:?}");
    }

    #[test]
    fn copies_have_no_nearest_neighbour_distance_whatever_their_spread() {
        let cpu = (Kind::Float, tch::Device::Cpu);
        // (samples, expect near-0 nn distance, why)
        let rows: Vec<(Tensor, bool, &str)> = vec![
            (
                Tensor::rand([4, 3, 16, 16], cpu).repeat([16, 1, 1, 1]) * 2.0 - 1.0,
                true,
                "4 faces repeated 16 times: spread is high, every sample has a twin",
            ),
            (
                Tensor::rand([64, 3, 16, 16], cpu) * 2.0 - 1.0,
                false,
                "64 independent images",
            ),
        ];
        for (x, copies, why) in rows {
            let s = stats(&x);
            assert!(s.sample_std > 0.3, "{why}: {s:?}");
            assert_eq!(s.nn_distance < 1e-2, copies, "{why}: {s:?}");
        }
    }

    #[test]
    fn grid_layout() {
        let x = Tensor::zeros([64, 3, 16, 16], (Kind::Float, tch::Device::Cpu));
        let img = grid_image(&x);
        assert_eq!(img.dimensions(), (8 * 16 + 9 * 2, 8 * 16 + 9 * 2));
        assert_eq!(img.get_pixel(2, 2), &Rgb([128, 128, 128]));
        assert_eq!(img.get_pixel(0, 0), &Rgb([40, 40, 40]));
    }
}
