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
/// The coarsest pyramid level (the paper stops at 16x16).
const MIN_RES: i64 = 16;
/// Images cut into neighbourhoods at once (bounds the unfolded tensor's memory).
const CHUNK: i64 = 64;
/// Directions projected and sorted at once: bounds the projections, their sort and its indices
/// (for 500 images, 64,000 descriptors: about 30 MB instead of 240 MB with all 128 at once).
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

/// `PER_IMAGE` random 7x7 neighbourhoods of every image of `level` [n, 3, h, w], from the
/// current random stream: [n * PER_IMAGE, 3, 7, 7].
fn descriptors(level: &Tensor) -> Tensor {
    let s = level.size();
    let (n, h, w) = (s[0], s[2], s[3]);
    let (ph, pw) = (h - NHOOD + 1, w - NHOOD + 1);
    // Filled chunk by chunk: no list of chunks beside their concatenation.
    let out = Tensor::empty(
        [n * PER_IMAGE, 3, NHOOD, NHOOD],
        (level.kind(), level.device()),
    );
    for start in (0..n).step_by(CHUNK as usize) {
        let m = CHUNK.min(n - start);
        let patches = level
            .narrow(0, start, m)
            .unfold(2, NHOOD, 1)
            .unfold(3, NHOOD, 1) // [m, 3, ph, pw, 7, 7]
            .permute([0, 2, 3, 1, 4, 5])
            .reshape([m, ph * pw, 3 * NHOOD * NHOOD]);
        let pick = Tensor::randint(ph * pw, [m, PER_IMAGE], (Kind::Int64, level.device()));
        let idx = pick
            .unsqueeze(2)
            .expand([m, PER_IMAGE, 3 * NHOOD * NHOOD], false);
        out.narrow(0, start * PER_IMAGE, m * PER_IMAGE).copy_(
            &patches
                .gather(1, &idx, false)
                .view([m * PER_IMAGE, 3, NHOOD, NHOOD]),
        );
    }
    out
}

/// Distance between two equally large descriptor sets [N, D], x1e3.
fn sliced_distance(a: &Tensor, b: &Tensor) -> f64 {
    let d = a.size()[1];
    let mut total = 0.0;
    for _ in 0..REPEATS {
        let dirs = Tensor::randn([d, DIRS], (Kind::Float, a.device()));
        let dirs = &dirs / dirs.square().sum_dim_intlist(0, true, Kind::Float).sqrt();
        for start in (0..DIRS).step_by(DIRS_CHUNK as usize) {
            let chunk = dirs.narrow(1, start, DIRS_CHUNK);
            // Sort each direction's projections along a contiguous row: [DIRS_CHUNK, N].
            let (pa, _) = a.mm(&chunk).t_().contiguous().sort(1, false);
            let (pb, _) = b.mm(&chunk).t_().contiguous().sort(1, false);
            // Equal chunks: the mean of their means is the mean over all directions.
            total += (pa - pb).abs().mean(Kind::Float).double_value(&[]) * (DIRS_CHUNK as f64)
                / DIRS as f64;
        }
    }
    total / REPEATS as f64 * 1e3
}

/// SWD between image sets `test` and `reference` ([n, 3, s, s], equal n, any range), per
/// pyramid level (finest first) x1e3. Random draws come from the current stream.
pub fn swd_levels(test: &Tensor, reference: &Tensor) -> Vec<f64> {
    assert_eq!(
        test.size(),
        reference.size(),
        "SWD needs equally large sets"
    );
    let _guard = tch::no_grad_guard();
    let (pt, pr) = (laplacian_pyramid(test), laplacian_pyramid(reference));
    pt.iter()
        .zip(&pr)
        .map(|(t, r)| {
            let (mut dt, mut dr) = (descriptors(t), descriptors(r));
            // Per-channel statistics of the reference's neighbourhoods.
            let mean = dr.mean_dim([0, 2, 3].as_slice(), true, Kind::Float);
            let std = dr.std_dim([0, 2, 3].as_slice(), true, true) + 1e-8;
            // Normalised in place: no second copy of either set.
            let flat = |x: &mut Tensor| {
                let _ = x.g_sub_(&mean).g_div_(&std);
                x.view([x.size()[0], -1])
            };
            sliced_distance(&flat(&mut dt), &flat(&mut dr))
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

    #[test]
    fn same_distribution_is_near_the_floor_and_shifts_are_far() {
        let a = images(128, 1, 1.0);
        let b = images(128, 2, 1.0);
        tch::manual_seed(9);
        let same = mean(&swd_levels(&a, &b));
        let shifted = mean(&swd_levels(&(&a + 0.3).clamp(-1.0, 1.0), &b));
        let noisier = mean(&swd_levels(&images(128, 3, 3.0), &b));
        let identical = mean(&swd_levels(&b, &b));
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
