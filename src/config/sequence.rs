//! Points of the unit cube for `[search]`: a scrambled Halton sequence, and independent ChaCha20
//! draws. Both come from a seed, both are portable (integer arithmetic, IEEE operations and
//! ChaCha20's specified output; no platform maths library, no library's seed expansion), and
//! both are prefix-stable: point i never depends on how many points are asked for.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// A ChaCha20 stream for (`seed`, `purpose`, `index`): its key is blake3 of the three, so
/// streams for different purposes or indexes never share output.
pub fn stream(seed: u64, purpose: &str, index: u64) -> ChaCha20Rng {
    let mut key = blake3::Hasher::new();
    key.update(b"anigan-runner [search] v1\0");
    key.update(purpose.as_bytes());
    key.update(b"\0");
    key.update(&seed.to_le_bytes());
    key.update(&index.to_le_bytes());
    ChaCha20Rng::from_seed(*key.finalize().as_bytes())
}

/// Uniform in [0, 1): the top 53 bits of one 64-bit output.
pub fn unit(rng: &mut ChaCha20Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The first `n` primes, the Halton bases.
fn primes(n: usize) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::with_capacity(n);
    let mut candidate = 2;
    while out.len() < n {
        if out
            .iter()
            .take_while(|p| *p * *p <= candidate)
            .all(|p| candidate % p != 0)
        {
            out.push(candidate);
        }
        candidate += 1;
    }
    out
}

/// The Halton sequence in the first `dims` prime bases with Owen's nested uniform scrambling
/// ("Randomly permuted (t,m,s)-nets and (t,s)-sequences", 1995): digit k of a coordinate goes
/// through a random permutation of the base's digits chosen by the seed, the dimension, k and
/// the k digits before it. Scrambling keeps Halton's stratification (the first b^k points fill
/// the b^k strata of a dimension in base b once each), makes the points depend on the seed, and
/// removes the plain sequence's flaws: its point 0 is the cube's corner (every range's low end)
/// and its early points line up in neighbouring large bases. Nesting (the permutation depends
/// on the earlier digits) also removes what a permutation per position alone (Owen 2017's
/// Algorithm 1, SciPy's `qmc.Halton(scramble=True)`) leaves: points that differ only in their
/// last digit (indexes 2j and 2j + 1 in base 2) exactly a multiple of 1/b apart, which made a
/// log-uniform learning rate over two decades come in pairs exactly ten times apart.
#[derive(Debug, Clone)]
pub struct Halton {
    /// Per dimension: its base and the key of its permutations (None: unscrambled).
    dims: Vec<(u64, Option<u64>)>,
}

impl Halton {
    pub fn scrambled(dims: usize, seed: u64) -> Halton {
        Halton {
            dims: primes(dims)
                .into_iter()
                .enumerate()
                .map(|(d, base)| (base, Some(stream(seed, "halton", d as u64).next_u64())))
                .collect(),
        }
    }

    /// Point `index`: per dimension, the sum over digit positions k of perm(d_k) * b^-(k+1),
    /// where d_k is the k-th base-b digit of `index` (the van der Corput radical inverse) and
    /// perm depends on k and d_0..d_(k-1). It is computed as an integer over b^D, D the digits a
    /// double holds exactly, then divided once.
    pub fn point(&self, index: u64) -> Vec<f64> {
        self.dims
            .iter()
            .map(|&(base, key)| {
                let places = digits(base);
                let (mut rest, mut prefix, mut power) = (index, 0u64, 1u64);
                let mut numerator: u64 = 0;
                for k in 0..places {
                    let digit = rest % base;
                    rest /= base;
                    let scrambled = match key {
                        Some(key) => permuted(key, k as u64, prefix, digit, base),
                        None => digit,
                    };
                    // Digit 0 ends up most significant, as the radical inverse wants.
                    numerator = numerator * base + scrambled;
                    prefix += digit * power;
                    power *= base;
                }
                // numerator and b^D are below 2^53: exact, up to the division's one rounding.
                numerator as f64 / power as f64
            })
            .collect()
    }

    #[cfg(test)]
    fn plain(dims: usize) -> Halton {
        Halton {
            dims: primes(dims).into_iter().map(|base| (base, None)).collect(),
        }
    }
}

/// `digit` through the permutation of 0..base for (`key`, position `k`, earlier digits
/// `prefix`): a Fisher-Yates shuffle driven by SplitMix64 from a hash of the three.
fn permuted(key: u64, k: u64, prefix: u64, digit: u64, base: u64) -> u64 {
    let mut rng = SplitMix64(key ^ SplitMix64(k ^ SplitMix64(prefix).next()).next());
    if base == 2 {
        return digit ^ (rng.next() >> 63);
    }
    let mut perm: Vec<u64> = (0..base).collect();
    for i in (1..perm.len()).rev() {
        let n = i as u64 + 1;
        let zone = u64::MAX - u64::MAX % n;
        let j = loop {
            let x = rng.next();
            if x < zone {
                break x % n;
            }
        };
        perm.swap(i, j as usize);
    }
    perm[digit as usize]
}

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014):
/// a counter and a mixing function, integer operations only. Cheap enough to seed once per
/// digit, which ChaCha20 is not.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Digits of base `base` a double holds exactly: the largest D with base^D <= 2^53.
fn digits(base: u64) -> usize {
    let (mut d, mut power) = (0, 1u64);
    while power <= (1u64 << 53) / base {
        power *= base;
        d += 1;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_primes() {
        assert_eq!(primes(8), [2, 3, 5, 7, 11, 13, 17, 19]);
    }

    #[test]
    fn digits_fit_a_double() {
        assert_eq!(digits(2), 53);
        assert_eq!(digits(3), 33); // 3^33 < 2^53 < 3^34
        for base in primes(30) {
            let d = digits(base) as u32;
            assert!(base.pow(d) <= 1 << 53 && base.checked_pow(d + 1).is_none_or(|p| p > 1 << 53));
        }
    }

    #[test]
    fn plain_halton_is_the_radical_inverse() {
        let h = Halton::plain(2);
        let points: Vec<Vec<f64>> = (0..5).map(|i| h.point(i)).collect();
        let want = [
            [0.0, 0.0],
            [0.5, 1.0 / 3.0],
            [0.25, 2.0 / 3.0],
            [0.75, 1.0 / 9.0],
            [0.125, 4.0 / 9.0],
        ];
        for (got, want) in points.iter().zip(want) {
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-15, "{got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn scrambling_keeps_the_strata() {
        let h = Halton::scrambled(4, 7);
        for (dim, base) in [2u64, 3, 5, 7].into_iter().enumerate() {
            for k in 1..=3 {
                let n = base.pow(k);
                let mut strata: Vec<u64> = (0..n)
                    .map(|i| (h.point(i)[dim] * n as f64) as u64)
                    .collect();
                strata.sort();
                assert_eq!(
                    strata,
                    (0..n).collect::<Vec<_>>(),
                    "base {base}, {n} points"
                );
            }
        }
    }

    #[test]
    fn nested_scrambling_leaves_no_pairs_half_apart() {
        let h = Halton::scrambled(2, 0);
        for i in (0..64).step_by(2) {
            let (a, b) = (h.point(i), h.point(i + 1));
            assert!(
                ((a[0] - b[0]).abs() - 0.5).abs() > 1e-9,
                "points {i}, {}: {a:?} {b:?}",
                i + 1
            );
        }
    }

    #[test]
    fn splitmix64_reference_output() {
        // The first output for seed 0 of the reference implementation (Vigna's splitmix64.c).
        assert_eq!(SplitMix64(0).next(), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn scrambled_points_lie_in_the_cube_and_depend_on_the_seed() {
        let (a, b) = (Halton::scrambled(3, 0), Halton::scrambled(3, 1));
        for i in 0..200 {
            assert!(a.point(i).iter().all(|u| (0.0..1.0).contains(u)));
        }
        assert_ne!(a.point(0), b.point(0));
        assert_ne!(a.point(0), vec![0.0; 3], "point 0 is no corner");
        assert_eq!(a.point(17), Halton::scrambled(3, 0).point(17));
    }

    #[test]
    fn streams_are_pinned() {
        // ChaCha20's output is specified and blake3 is stable: these numbers are the same on
        // every machine and must not change (they would move every drawn trial, and its id).
        let mut rng = stream(0, "random", 0);
        assert_eq!(rng.next_u64(), PINNED_FIRST_OUTPUT);
        assert_ne!(stream(0, "random", 1).next_u64(), PINNED_FIRST_OUTPUT);
        assert_ne!(stream(1, "random", 0).next_u64(), PINNED_FIRST_OUTPUT);
        assert_ne!(stream(0, "halton", 0).next_u64(), PINNED_FIRST_OUTPUT);
    }

    const PINNED_FIRST_OUTPUT: u64 = 1858746013122707531;

    #[test]
    fn chacha20_is_the_specified_cipher() {
        // The all-zero key's first keystream words (Bernstein's ChaCha20, the zero-key test
        // vector 76 b8 e0 ad a0 f1 3d 90 ...), read as a little-endian u64.
        let mut rng = ChaCha20Rng::from_seed([0; 32]);
        assert_eq!(rng.next_u64(), 0x903d_f1a0_ade0_b876);
    }
}
