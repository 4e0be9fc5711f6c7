//! Seeded choice of the holdout set and the training subset.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

#[derive(Debug, PartialEq, Eq)]
pub(super) struct Split {
    /// Indices into the decoded dataset, ascending.
    pub train: Vec<usize>,
    pub holdout: Vec<usize>,
}

/// One seeded permutation of `0..n`: its first `holdout` entries are held out, the next `limit`
/// (0 = all the rest) are trained on. The holdout therefore depends only on `n`, `holdout` and
/// `seed`, never on `limit`.
pub(super) fn split(n: usize, holdout: usize, limit: usize, seed: u64) -> anyhow::Result<Split> {
    anyhow::ensure!(
        holdout < n,
        "[data] holdout = {holdout} leaves no image to train on: the dataset has {n} images; \
         lower [data] holdout"
    );
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let (held, rest) = order.split_at_mut(holdout);
    let take = if limit == 0 {
        rest.len()
    } else {
        limit.min(rest.len())
    };
    let train = &mut rest[..take];
    held.sort_unstable();
    train.sort_unstable();
    Ok(Split {
        train: train.to_vec(),
        holdout: held.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed() {
        assert_eq!(
            split(100, 10, 30, 7).unwrap(),
            split(100, 10, 30, 7).unwrap()
        );
        assert_ne!(
            split(100, 10, 30, 7).unwrap(),
            split(100, 10, 30, 8).unwrap()
        );
    }

    #[test]
    fn sets_are_disjoint_and_sized() {
        let rows = [
            (100, 10, 30, 30, "limit below the rest"),
            (100, 10, 0, 90, "no limit: all the rest"),
            (100, 10, 500, 90, "limit above the rest"),
            (5, 0, 0, 5, "no holdout"),
        ];
        for (n, holdout, limit, train_len, why) in rows {
            let s = split(n, holdout, limit, 3).unwrap();
            assert_eq!(
                (s.holdout.len(), s.train.len()),
                (holdout, train_len),
                "{why}"
            );
            assert!(
                s.train.iter().all(|i| !s.holdout.contains(i) && *i < n),
                "{why}"
            );
            assert!(s.train.is_sorted() && s.holdout.is_sorted(), "{why}");
        }
    }

    #[test]
    fn holdout_does_not_depend_on_limit() {
        assert_eq!(
            split(100, 10, 5, 1).unwrap().holdout,
            split(100, 10, 0, 1).unwrap().holdout
        );
    }

    #[test]
    fn holdout_must_leave_training_images() {
        let message = split(10, 10, 0, 0).unwrap_err().to_string();
        assert!(
            message.contains("has 10 images") && message.contains("[data] holdout"),
            "{message}"
        );
    }
}
