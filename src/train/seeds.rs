//! Random streams derived from (experiment seed, variant, epoch, attempt): a resumed run
//! replays exactly what an uninterrupted one would have done, and a retry after a rollback
//! takes a new path.

use crate::config::Config;

/// SplitMix64's finaliser: spreads every input bit over the output.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn combine(parts: &[u64]) -> i64 {
    let h = parts
        .iter()
        .fold(0x9e37_79b9_7f4a_7c15_u64, |acc, &p| mix(acc ^ mix(p)));
    // libtorch takes a signed seed; keep it non-negative for readable logs.
    (h >> 1) as i64
}

/// The variant's part of every seed: `config::seed_hash`, its settings without `[rollback]`,
/// so a run with rollback on and the same run with it off draw the same numbers until the
/// first rollback (then `attempt` changes the streams).
pub fn variant_key(config: &Config) -> u64 {
    let hash = crate::config::seed_hash(config);
    u64::from_str_radix(&hash, 16).unwrap_or_else(|_| mix(hash.len() as u64))
}

/// Seed for the initial weights.
pub fn init(seed: u64, variant: u64) -> i64 {
    combine(&[seed, variant, u64::MAX])
}

/// Seed for the fixed noise behind the sample grids (the same for every epoch and attempt).
pub fn fixed_noise(seed: u64, variant: u64) -> i64 {
    combine(&[seed, variant, u64::MAX - 1])
}

/// Seed for the quality evaluation (the same at every evaluation: figures depend only on the
/// weights).
pub fn eval(seed: u64, variant: u64) -> i64 {
    combine(&[seed, variant, u64::MAX - 2])
}

/// Seed for everything random in one epoch of one attempt.
pub fn epoch(seed: u64, variant: u64, epoch: u32, attempt: u32) -> i64 {
    combine(&[seed, variant, epoch as u64, attempt as u64])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_each_part() {
        let base = epoch(1, 2, 3, 0);
        assert_eq!(base, epoch(1, 2, 3, 0));
        for other in [
            epoch(2, 2, 3, 0),
            epoch(1, 3, 3, 0),
            epoch(1, 2, 4, 0),
            epoch(1, 2, 3, 1),
        ] {
            assert_ne!(base, other);
        }
        assert!(base >= 0);
    }

    #[test]
    fn rollback_settings_do_not_enter_the_seed() {
        let base = Config::default();
        let mut off = base.clone();
        off.rollback.enabled = false;
        off.rollback.patience = 3;
        off.rollback.g_failure.lr_d_factor = 0.1;
        off.experiment.name = "bench-off".into();
        let mut other = base.clone();
        other.train.lr_d = 1e-4;
        let mut aux = base.clone();
        aux.train.aux_tag_weight = 0.5;
        // (config, same key as the default, why)
        let rows = [
            (
                aux,
                true,
                "a quality lever: on/off arms start from the same G and D and draw the same batches",
            ),
            (
                off,
                true,
                "rollback.* only decides how the runner reacts, the name where results go",
            ),
            (other, false, "a training setting seeds a different run"),
        ];
        for (cfg, same, why) in rows {
            assert_eq!(variant_key(&cfg) == variant_key(&base), same, "{why}");
        }
        assert_eq!(
            crate::config::seed_hash(&base).len(),
            8,
            "the same 8 hex digits as the id's hash"
        );
    }
}
