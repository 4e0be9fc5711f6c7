//! Sliced Wasserstein distance on Laplacian pyramids (Karras et al. 2018, "Progressive Growing
//! of GANs", appendix D): per pyramid level, 128 random 7x7 neighbourhoods per image,
//! normalised per channel, projected on random unit directions; the distance between the
//! sorted projections, averaged over directions, is reported x1e3 per level.
//!
//! One deviation: both sets are normalised with the *reference* set's per-channel mean and
//! std (the original normalises each set by its own), so that a global colour or contrast
//! shift still counts.

use tch::{Device, Kind, Tensor};

/// Neighbourhood side, neighbourhoods per image and level, directions per repeat, repeats.
const NHOOD: i64 = 7;
const PER_IMAGE: i64 = 128;
const DIRS: i64 = 128;
const REPEATS: i64 = 4;
/// Values in one neighbourhood descriptor (3 channels of 7x7).
const DESCRIPTOR: i64 = 3 * NHOOD * NHOOD;
/// The coarsest pyramid level (the paper stops at 16x16).
const MIN_RES: i64 = 16;
/// Images per random draw of neighbourhoods. The draw's size fixes the random stream: keep it.
const CHUNK: i64 = 64;
/// Images per pyramid pass: bounds the blur's temporaries (libtorch's grouped convolution
/// unfolds its input 25-fold: 5 MB for 16 images at 32 px).
const PYRAMID_CHUNK: i64 = 16;
/// Descriptors cut out and projected at once (bounds their copy: 2048 x 147 floats, 1.2 MB).
const DESCRIPTORS_CHUNK: i64 = 2048;
/// Directions projected and sorted at once. Descriptors are cut out again for every chunk of
/// directions instead of kept (500 images' 64,000 descriptors are 38 MB per set); two sets' 16
/// sorted projections are 8 MB. (32 at once: 1.2x faster, 8 MB more, which took an evaluation
/// over training's own peak.)
const DIRS_CHUNK: i64 = 16;
const _: () = assert!(DIRS % DIRS_CHUNK == 0, "direction chunks must be equal");

/// 5x5 binomial kernel for 3 channels: [3, 1, 5, 5].
fn kernel(device: Device) -> Tensor {
    let k = Tensor::from_slice(&[1f32, 4., 6., 4., 1.]).to_device(device) / 16.0;
    k.outer(&k).view([1, 1, 5, 5]).repeat([3, 1, 1, 1])
}

fn blur(x: &Tensor, k: &Tensor) -> Tensor {
    x.reflection_pad2d([2, 2, 2, 2])
        .conv2d(k, None::<Tensor>, [1, 1], [0, 0], [1, 1], 3)
}

/// Laplacian pyramid of `x` [n, 3, s, s]: band-pass levels from s down to 32, then the 16x16
/// (or smaller, for s < 16) Gaussian level.
pub fn laplacian_pyramid(x: &Tensor) -> Vec<Tensor> {
    let k = kernel(x.device());
    let mut levels = Vec::new();
    let mut g = x.shallow_clone();
    while g.size()[2] > MIN_RES {
        let down = blur(&g, &k).slice(2, 0, None, 2).slice(3, 0, None, 2);
        let s = g.size();
        let up = Tensor::zeros(s.as_slice(), (Kind::Float, g.device()));
        up.slice(2, 0, None, 2).slice(3, 0, None, 2).copy_(&down);
        levels.push(&g - blur(&up, &k) * 4.0);
        g = down;
    }
    levels.push(g);
    levels
}

/// `laplacian_pyramid` of `x`, `PYRAMID_CHUNK` images at a time (each image's pyramid is its own: the
/// same levels, without a whole set's blur temporaries at once).
fn pyramid_in_chunks(x: &Tensor) -> Vec<Tensor> {
    let n = x.size()[0];
    let first = laplacian_pyramid(&x.narrow(0, 0, PYRAMID_CHUNK.min(n)));
    let levels: Vec<Tensor> = first
        .iter()
        .map(|l| {
            let mut size = l.size();
            size[0] = n;
            Tensor::empty(size.as_slice(), (l.kind(), l.device()))
        })
        .collect();
    for start in (0..n).step_by(PYRAMID_CHUNK as usize) {
        let m = PYRAMID_CHUNK.min(n - start);
        let chunk = match start {
            0 => first.iter().map(Tensor::shallow_clone).collect(),
            _ => laplacian_pyramid(&x.narrow(0, start, m)),
        };
        for (level, part) in levels.iter().zip(&chunk) {
            level.narrow(0, start, m).copy_(part);
        }
    }
    levels
}

/// `PER_IMAGE` random 7x7 neighbourhoods of every image of one pyramid level, drawn from the
/// current random stream and kept as positions: a descriptor ([3, 7, 7], flattened to 147) is
/// cut out of the level whenever it is projected.
struct Neighbourhoods {
    /// The neighbourhood whose top-left value is the level's k-th value, for every k: an
    /// overlapping view [k, 3, 7, 7] of the (contiguous) level's storage.
    at_offset: Tensor,
    /// The drawn neighbourhoods' offsets, `PER_IMAGE` per image in image order: [n * PER_IMAGE].
    offsets: Tensor,
}

impl Neighbourhoods {
    /// Draws the neighbourhoods of `level` [n, 3, h, w].
    fn draw(level: &Tensor) -> Self {
        let level = level.contiguous();
        let s = level.size();
        let (n, h, w) = (s[0], s[2], s[3]);
        let (ph, pw) = (h - NHOOD + 1, w - NHOOD + 1);
        let device = level.device();
        let picks: Vec<Tensor> = (0..n)
            .step_by(CHUNK as usize)
            .map(|start| {
                let m = CHUNK.min(n - start);
                Tensor::randint(ph * pw, [m * PER_IMAGE], (Kind::Int64, device))
            })
            .collect();
        let pick = Tensor::cat(&picks, 0); // row * pw + col within the image's positions
        let image = Tensor::arange(n, (Kind::Int64, device))
            .repeat_interleave_self_int(PER_IMAGE, None, None);
        let (row, col) = (pick.divide_scalar_mode(pw, "floor"), pick.remainder(pw));
        let offsets = image * (3 * h * w) + row * w + col;
        // The last neighbourhood that fits starts this far before the storage's end.
        let last = 2 * h * w + (NHOOD - 1) * w + NHOOD - 1;
        let at_offset = level.as_strided(
            [level.numel() as i64 - last, 3, NHOOD, NHOOD],
            [1, h * w, w, 1],
            None,
        );
        Self { at_offset, offsets }
    }

    fn len(&self) -> i64 {
        self.offsets.size()[0]
    }

    /// Descriptors `start..start + m`: [m, 147].
    fn descriptors(&self, start: i64, m: i64) -> Tensor {
        self.at_offset
            .index_select(0, &self.offsets.narrow(0, start, m))
            .view([m, DESCRIPTOR])
    }

    /// Chunks of the descriptors: (start, [m, 147]).
    fn chunks(&self) -> impl Iterator<Item = (i64, Tensor)> + '_ {
        let n = self.len();
        (0..n)
            .step_by(DESCRIPTORS_CHUNK as usize)
            .map(move |start| {
                (
                    start,
                    self.descriptors(start, DESCRIPTORS_CHUNK.min(n - start)),
                )
            })
    }

    /// Per-channel standard deviation (unbiased, + 1e-8) of the descriptors, each spread over
    /// the channel's 49 values: [147] f32.
    fn channel_std(&self) -> Tensor {
        let device = self.offsets.device();
        let (mut sum, mut squares) = (
            Tensor::zeros([3], (Kind::Double, device)),
            Tensor::zeros([3], (Kind::Double, device)),
        );
        for (_, d) in self.chunks() {
            let d = d.view([-1, 3, NHOOD * NHOOD]);
            sum += d.sum_dim_intlist([0, 2].as_slice(), false, Kind::Double);
            squares += d
                .square()
                .sum_dim_intlist([0, 2].as_slice(), false, Kind::Double);
        }
        let count = (self.len() * NHOOD * NHOOD) as f64;
        let std = ((squares - sum.square() / count) / (count - 1.0)).sqrt() + 1e-8;
        std.to_kind(Kind::Float)
            .repeat_interleave_self_int(NHOOD * NHOOD, None, None)
    }

    /// Projections of the normalised descriptors on `dirs` [147, k], each direction's sorted
    /// ascending: k rows of `len()` values. Normalised is (d - mean) / std with the reference
    /// set's per-channel statistics; the mean moves both sets' projections on a direction by
    /// the same amount, which cancels in their distance, so only `std` (see `channel_std`) is
    /// applied.
    fn sorted_projections(&self, dirs: &Tensor, std: &Tensor) -> Vec<Vec<f32>> {
        let scaled = (dirs / std.unsqueeze(1)).tr(); // [k, 147]
        let (k, n) = (dirs.size()[1] as usize, self.len() as usize);
        let mut rows = vec![vec![0f32; n]; k];
        // One copy to the host per chunk (on a GPU, one transfer instead of one per row).
        let mut staging = vec![0f32; k * DESCRIPTORS_CHUNK as usize];
        for (start, d) in self.chunks() {
            let p = scaled.mm(&d.tr()); // [k, m]
            let (start, m) = (start as usize, d.size()[0] as usize);
            p.copy_data(&mut staging, k * m);
            for (row, projected) in rows.iter_mut().zip(staging.chunks_exact(m)) {
                row[start..start + m].copy_from_slice(projected);
            }
        }
        for row in &mut rows {
            radsort::sort(row);
        }
        rows
    }
}

/// Sliced distance between the two levels' neighbourhoods, normalised with `reference`'s
/// per-channel statistics, x1e3: per repeat, `DIRS` random unit directions; the mean absolute
/// difference between the sorted projections (the 1-D Wasserstein-1 distance per direction),
/// averaged over directions and repeats.
fn level_distance(test: &Neighbourhoods, reference: &Neighbourhoods) -> f64 {
    let std = reference.channel_std();
    let n = test.len() as f64;
    let mut total = 0.0;
    for _ in 0..REPEATS {
        let dirs = Tensor::randn([DESCRIPTOR, DIRS], (Kind::Float, std.device()));
        let dirs = &dirs / dirs.square().sum_dim_intlist(0, true, Kind::Float).sqrt();
        for start in (0..DIRS).step_by(DIRS_CHUNK as usize) {
            let chunk = dirs.narrow(1, start, DIRS_CHUNK);
            let a = test.sorted_projections(&chunk, &std);
            let b = reference.sorted_projections(&chunk, &std);
            for (a, b) in a.iter().zip(&b) {
                let diff: f64 = a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs())).sum();
                total += diff / n;
            }
        }
    }
    total / (DIRS * REPEATS) as f64 * 1e3
}

/// SWD between image sets `test` and `reference` ([n, 3, s, s], equal n, any range), per
/// pyramid level (finest first) x1e3. Random draws come from the current stream.
///
/// Memory: the two pyramids (1.33x the images) and, per level, two sets of `DIRS_CHUNK`
/// sorted projections (4 bytes x 16 x 128 per image and set); no set of descriptors is kept
/// whole: beyond the images, 16 MB for 500 of 32 px (193 MB when it held them) and 52 MB at
/// 64 px (477 MB). The images are taken, and freed once their pyramids are built unless the
/// caller keeps a handle.
pub fn swd_levels(test: Tensor, reference: Tensor) -> Vec<f64> {
    assert_eq!(
        test.size(),
        reference.size(),
        "SWD needs equally large sets"
    );
    let _guard = tch::no_grad_guard();
    // Each set's images freed as soon as its pyramid is built.
    let pt = pyramid_in_chunks(&test);
    drop(test);
    let pr = pyramid_in_chunks(&reference);
    drop(reference);
    pt.iter()
        .zip(&pr)
        .map(|(t, r)| {
            // Drawn in this order (test's, then reference's, then directions) as before.
            let t = Neighbourhoods::draw(t);
            let r = Neighbourhoods::draw(r);
            level_distance(&t, &r)
        })
        .collect()
}

/// The mean over levels.
pub fn mean(levels: &[f64]) -> f64 {
    levels.iter().sum::<f64>() / levels.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Smooth random blobs with noise: a stand-in for images with structure at every scale.
    fn images(n: i64, seed: i64, contrast: f64) -> Tensor {
        tch::manual_seed(seed);
        let opts = (Kind::Float, Device::Cpu);
        let coarse =
            Tensor::randn([n, 3, 4, 4], opts).upsample_bilinear2d([32, 32], false, None, None);
        (coarse * 0.4 + Tensor::randn([n, 3, 32, 32], opts) * 0.1 * contrast).clamp(-1.0, 1.0)
    }

    #[test]
    fn pyramid_levels_and_reconstruction_sizes() {
        let x = images(2, 1, 1.0);
        let p = laplacian_pyramid(&x);
        assert_eq!(p.len(), 2, "32 px: one band-pass level and the 16 px level");
        assert_eq!(p[0].size(), [2, 3, 32, 32]);
        assert_eq!(p[1].size(), [2, 3, 16, 16]);
        let flat = Tensor::ones([1, 3, 32, 32], (Kind::Float, Device::Cpu)) * 0.3;
        let band = laplacian_pyramid(&flat)[0].abs().max().double_value(&[]);
        assert!(
            band < 1e-5,
            "a flat image has no band-pass content ({band})"
        );
    }

    /// The distance computed the direct way: every set's descriptors cut out at once (the
    /// level unfolded at every position, then the drawn ones gathered), normalised, projected
    /// on all directions and sorted by libtorch.
    fn direct_swd_levels(test: &Tensor, reference: &Tensor) -> Vec<f64> {
        let descriptors = |level: &Tensor| {
            let s = level.size();
            let (n, ph, pw) = (s[0], s[2] - NHOOD + 1, s[3] - NHOOD + 1);
            let all = level
                .unfold(2, NHOOD, 1)
                .unfold(3, NHOOD, 1)
                .permute([0, 2, 3, 1, 4, 5])
                .reshape([n, ph * pw, DESCRIPTOR]);
            let picks: Vec<Tensor> = (0..n)
                .step_by(CHUNK as usize)
                .map(|start| {
                    let m = CHUNK.min(n - start);
                    Tensor::randint(ph * pw, [m, PER_IMAGE], (Kind::Int64, Device::Cpu))
                })
                .collect();
            let pick = Tensor::cat(&picks, 0)
                .unsqueeze(2)
                .expand([n, PER_IMAGE, DESCRIPTOR], false);
            all.gather(1, &pick, false)
                .view([n * PER_IMAGE, 3, NHOOD, NHOOD])
        };
        let (pt, pr) = (laplacian_pyramid(test), laplacian_pyramid(reference));
        pt.iter()
            .zip(&pr)
            .map(|(t, r)| {
                let (dt, dr) = (descriptors(t), descriptors(r));
                let mean = dr.mean_dim([0, 2, 3].as_slice(), true, Kind::Float);
                let std = dr.std_dim([0, 2, 3].as_slice(), true, true) + 1e-8;
                let flat = |d: &Tensor| ((d - &mean) / &std).view([-1, DESCRIPTOR]);
                let (a, b) = (flat(&dt), flat(&dr));
                let mut total = 0.0;
                for _ in 0..REPEATS {
                    let dirs = Tensor::randn([DESCRIPTOR, DIRS], (Kind::Float, Device::Cpu));
                    let dirs = &dirs / dirs.square().sum_dim_intlist(0, true, Kind::Float).sqrt();
                    let (pa, _) = a.mm(&dirs).sort(0, false);
                    let (pb, _) = b.mm(&dirs).sort(0, false);
                    total += (pa - pb).abs().mean(Kind::Double).double_value(&[]);
                }
                total / REPEATS as f64 * 1e3
            })
            .collect()
    }

    #[test]
    fn streamed_distance_equals_the_direct_computation() {
        // 70 images: a partial chunk of draws; 32 px: a band-pass and a Gaussian level.
        let (a, b) = (images(70, 1, 1.0), images(70, 2, 2.0));
        tch::manual_seed(5);
        let direct = direct_swd_levels(&a, &b);
        tch::manual_seed(5);
        let streamed = swd_levels(a, b);
        assert_eq!(streamed.len(), 2);
        for (s, d) in streamed.iter().zip(&direct) {
            assert!(
                (s - d).abs() < 1e-4 * d,
                "streamed {streamed:?} against direct {direct:?}"
            );
        }
    }

    #[test]
    fn pyramid_in_chunks_equals_the_whole_set_at_once() {
        let x = images(PYRAMID_CHUNK + 5, 3, 1.0);
        for (chunked, whole) in pyramid_in_chunks(&x).iter().zip(laplacian_pyramid(&x)) {
            assert!(chunked.allclose(&whole, 1e-6, 1e-6, false));
        }
    }

    #[test]
    fn same_distribution_is_near_the_floor_and_shifts_are_far() {
        let a = images(128, 1, 1.0);
        let b = images(128, 2, 1.0);
        tch::manual_seed(9);
        let same = mean(&swd_levels(a.shallow_clone(), b.shallow_clone()));
        let shifted = mean(&swd_levels((&a + 0.3).clamp(-1.0, 1.0), b.shallow_clone()));
        let noisier = mean(&swd_levels(images(128, 3, 3.0), b.shallow_clone()));
        let identical = mean(&swd_levels(b.shallow_clone(), b));
        // Itself, with other random neighbourhoods: the floor, like two draws of one distribution.
        assert!(
            identical < 2.0 * same,
            "a set against itself: {identical} vs {same}"
        );
        assert!(shifted > 3.0 * same, "colour shift: {shifted} vs {same}");
        assert!(
            noisier > 3.0 * same,
            "more fine detail: {noisier} vs {same}"
        );
    }
}
