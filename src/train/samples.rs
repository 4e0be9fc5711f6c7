//! The fixed-noise sample grid: an 8x8 PNG per sampled epoch, and the figures that reveal
//! collapse in it (variety across samples, contrast within each, distance to the data).

use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use crate::data::{DeviceImages, sample_indices};

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

/// Neighbourhood side of the grid's sliced Wasserstein distance (`GridSwd`).
const SWD_NHOOD: i64 = 5;
/// Neighbourhoods per image and pyramid level (all of them on levels with fewer).
const SWD_PER_IMAGE: i64 = 64;
/// Projection directions, drawn once.
const SWD_DIRS: i64 = 64;
/// The last (Gaussian) pyramid level's side: the layout and colours of a face.
const SWD_MIN_SIDE: i64 = 8;
/// Draws of other training images behind the floor.
const SWD_FLOOR_DRAWS: u64 = 3;
/// Seeds the real set, the floor's draws, the neighbourhoods and the directions.
const SWD_SEED: u64 = 0x5d15_7a11;

/// A small sliced Wasserstein distance from the fixed-noise samples to a fixed set of `GRID`
/// training images, cheap enough for every epoch (a few milliseconds at 16-64 px, against the
/// evaluation's seconds): whether the samples are still getting closer to the data when no
/// evaluation is due, and how far from it they are when their spread looks normal (saturated
/// speckle, lost colour).
///
/// The method of Karras et al. 2018 ("Progressive Growing of GANs", appendix D) with far
/// fewer draws, fixed once: a Laplacian pyramid (2x2 average pooling, bilinear upsampling)
/// whose band-pass levels run from the full size down to 16 px and whose last, Gaussian level
/// is 8 px (the layout and colours of a face; speckle shows in the band-pass levels); per level
/// 5x5 neighbourhoods (64 per image), normalised per channel by the real set's std, projected
/// on 64 fixed random unit directions, the mean absolute difference of the sorted projections.
/// Each level is read against its floor, the same distance for other training images (mean of
/// 3 draws), and the ratios are averaged: 1 means as close to the data as real images.
pub struct GridSwd {
    levels: Vec<SwdLevel>,
    /// [3 * 5 * 5, SWD_DIRS] unit columns.
    dirs: Tensor,
    /// Real images in the set (the samples compared are the first as many).
    n: i64,
}

/// One pyramid level of `GridSwd`'s real set.
struct SwdLevel {
    /// Top-left corners (row, column) of the neighbourhoods cut out of every image.
    picks: Vec<(i64, i64)>,
    /// The real set's sorted projections, one row per direction.
    real: Vec<Vec<f32>>,
    /// The real set's per-channel std [1, 3, 1, 1].
    std: Tensor,
    /// The distance of other training images to the set.
    floor: f64,
}

impl GridSwd {
    /// The real set: `GRID` seeded random training images of `data`; the floor's draws are
    /// other images (disjoint from it while the data has 4 x `GRID` images).
    pub fn new(data: &DeviceImages) -> Self {
        let device = data.device();
        let draws = SWD_FLOOR_DRAWS as i64 + 1;
        // One sample (ascending indices), dealt out in turn so each set spreads over the data.
        let pool = data.sample(GRID * draws, SWD_SEED);
        let n = pool.size()[0] / draws;
        let set = |k: i64| {
            let idx = Tensor::arange(n, (Kind::Int64, device)) * draws + k;
            pool.index_select(0, &idx)
        };
        let mut rng = ChaCha8Rng::seed_from_u64(SWD_SEED);
        let descriptor = 3 * SWD_NHOOD * SWD_NHOOD;
        let dirs: Vec<f32> = (0..descriptor * SWD_DIRS)
            .map(|_| rng.sample(rand_distr::StandardNormal))
            .collect();
        let dirs = Tensor::from_slice(&dirs)
            .view([descriptor, SWD_DIRS])
            .to_device(device);
        let dirs = &dirs / dirs.square().sum_dim_intlist(0, true, Kind::Float).sqrt();
        let levels = pyramid(&set(0))
            .into_iter()
            .map(|level| {
                let fits = level.size()[2] - SWD_NHOOD + 1;
                let picks: Vec<(i64, i64)> =
                    sample_indices(fits * fits, SWD_PER_IMAGE, rng.random())
                        .into_iter()
                        .map(|p| (p / fits, p % fits))
                        .collect();
                let std = level.std_dim([0, 2, 3].as_slice(), true, true) + 1e-8;
                let real = projections(&level, &picks, &std, &dirs);
                SwdLevel {
                    picks,
                    real,
                    std,
                    floor: 0.0,
                }
            })
            .collect();
        let mut swd = GridSwd { levels, dirs, n };
        for k in 1..draws {
            let d = swd.distances(&set(k));
            for (level, d) in swd.levels.iter_mut().zip(d) {
                level.floor += d / SWD_FLOOR_DRAWS as f64;
            }
        }
        swd
    }

    /// Per level (finest first), the distance of `x` ([>= n, 3, s, s] in [-1, 1]; its first n
    /// images) to the real set.
    fn distances(&self, x: &Tensor) -> Vec<f64> {
        let _guard = tch::no_grad_guard();
        let x = x.narrow(0, 0, self.n).to_kind(Kind::Float);
        pyramid(&x)
            .iter()
            .zip(&self.levels)
            .map(|(level, l)| {
                let test = projections(level, &l.picks, &l.std, &self.dirs);
                let total: f64 = test
                    .iter()
                    .zip(&l.real)
                    .flat_map(|(a, b)| a.iter().zip(b))
                    .map(|(a, b)| f64::from((a - b).abs()))
                    .sum();
                total / (l.real.len() * l.real[0].len()) as f64
            })
            .collect()
    }

    /// Per level (finest first), the distance over its floor.
    pub fn level_ratios(&self, x: &Tensor) -> Vec<f64> {
        self.distances(x)
            .iter()
            .zip(&self.levels)
            .map(|(d, l)| d / l.floor.max(1e-12))
            .collect()
    }

    /// The mean of `level_ratios`: 1 = as close to the data as other real images.
    pub fn ratio(&self, x: &Tensor) -> f64 {
        let r = self.level_ratios(x);
        r.iter().sum::<f64>() / r.len() as f64
    }
}

/// The Laplacian pyramid of `x` [n, 3, s, s]: band-pass levels (the level minus its 2x
/// average-pooled, bilinearly upsampled self) while the side is above `SWD_MIN_SIDE`, then the
/// pooled image itself; every level at least a neighbourhood wide (padded at the edge).
fn pyramid(x: &Tensor) -> Vec<Tensor> {
    let mut levels = Vec::new();
    let mut g = x.shallow_clone();
    while g.size()[2] > SWD_MIN_SIDE {
        let s = g.size()[2];
        let down = g.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>);
        let up = down.upsample_bilinear2d([s, s], false, None, None);
        levels.push(&g - up);
        g = down;
    }
    levels.push(g);
    let pad = |l: Tensor| match SWD_NHOOD - l.size()[2] {
        p if p > 0 => l.replication_pad2d([0, p, 0, p]),
        _ => l,
    };
    levels.into_iter().map(pad).collect()
}

/// The neighbourhoods at `picks` of every image of `level` [n, 3, h, w], divided by `std`,
/// projected on `dirs` and sorted on the host (radix sort: several times faster than
/// libtorch's on the CPU): one row of n * picks values per direction.
fn projections(level: &Tensor, picks: &[(i64, i64)], std: &Tensor, dirs: &Tensor) -> Vec<Vec<f32>> {
    let n = level.size()[0];
    let scaled = level / std;
    let cut: Vec<Tensor> = picks
        .iter()
        .map(|&(y, x)| {
            scaled
                .narrow(2, y, SWD_NHOOD)
                .narrow(3, x, SWD_NHOOD)
                .reshape([n, -1])
        })
        .collect();
    let descriptors = Tensor::cat(&cut, 0); // [picks * n, 75]
    let projected = dirs.tr().mm(&descriptors.tr()).to_device(tch::Device::Cpu); // [dirs, picks * n]
    let m = descriptors.size()[0] as usize;
    let flat = Vec::<f32>::try_from(projected.contiguous().view(-1)).expect("projections copy");
    flat.chunks_exact(m)
        .map(|row| {
            let mut row = row.to_vec();
            radsort::sort(&mut row);
            row
        })
        .collect()
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

    /// Smooth coloured blobs, a stand-in for faces: [n, 3, s, s] in [-1, 1].
    fn blobs(n: i64, s: i64, seed: i64) -> Tensor {
        tch::manual_seed(seed);
        let cpu = (Kind::Float, tch::Device::Cpu);
        let coarse =
            Tensor::randn([n, 3, 4, 4], cpu).upsample_bilinear2d([s, s], false, None, None);
        (coarse * 0.5 + Tensor::randn([n, 3, s, s], cpu) * 0.05).clamp(-1.0, 1.0)
    }

    fn to_u8(x: &Tensor) -> Vec<u8> {
        Vec::try_from(((x + 1.0) * 127.5).round().to_kind(Kind::Uint8).view(-1)).unwrap()
    }

    #[test]
    fn grid_swd_reads_distance_to_the_data() {
        for s in [16, 32] {
            let data = blobs(400, s, 1);
            let images = DeviceImages::upload(&to_u8(&data), 400, s as u32, tch::Device::Cpu);
            let swd = GridSwd::new(&images);
            let like = blobs(64, s, 2);
            let grey = like
                .mean_dim(1, true, Kind::Float)
                .expand([64, 3, s, s], false);
            let speckle =
                (&like + Tensor::randn([64, 3, s, s], (Kind::Float, tch::Device::Cpu))).sign();
            let flat = like
                .mean_dim([2, 3].as_slice(), true, Kind::Float)
                .expand([64, 3, s, s], false);
            // (samples, ratio range, why)
            let rows: Vec<(Tensor, (f64, f64), &str)> = vec![
                (
                    like.shallow_clone(),
                    (0.5, 1.5),
                    "new images of the same kind: near the floor",
                ),
                (
                    grey,
                    (2.0, f64::INFINITY),
                    "the colour gone, the layout kept",
                ),
                (
                    speckle,
                    (4.0, f64::INFINITY),
                    "saturated speckle in 8 colours",
                ),
                (flat, (2.0, f64::INFINITY), "each image one flat colour"),
            ];
            for (x, (lo, hi), why) in rows {
                let r = swd.ratio(&x);
                assert!(
                    (lo..hi).contains(&r),
                    "{s} px, {why}: ratio {r:.2}, levels {:?}",
                    swd.level_ratios(&x)
                );
            }
            assert_eq!(
                swd.ratio(&like),
                GridSwd::new(&images).ratio(&like),
                "fixed draws"
            );
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
