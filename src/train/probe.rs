//! A few timed training steps of a variant's nets on random images: the pace behind a sweep's
//! cost estimate when this machine has not trained that shape yet.

use std::time::Instant;

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::Device;

use super::nets::Nets;
use super::schedule::{EpochPlan, run_epoch};
use crate::config::Config;
use crate::data::{Dataset, DeviceImages, Vocabulary};

/// What a probe measured.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// Training images per second (D's real batches, as metrics.csv's `images_per_sec`): the
    /// median of the timed batches' paces.
    pub images_per_sec: f64,
    /// The batch size timed (the variant's, capped on a CPU to keep the probe short).
    pub batch: i64,
    /// Batches timed, after `warm_up` untimed ones.
    pub batches: usize,
    pub warm_up: usize,
}

/// Largest batch a CPU probe times: per image a CPU step costs about the same at any batch.
const CPU_BATCH: i64 = 32;
/// Untimed batches first: the first two build libtorch's kernels and allocate its memory
/// (a CGAN at 16 px, batch 32, on 2 loaded cores: 2.1 s and 2.0 s, then 0.3 s, then 0.04 to
/// 0.2 s a batch), so timing the second gave a pace 100 times too slow.
const WARM_UP: usize = 2;
/// Batches are timed until `TIMED_SECONDS` have passed and at least `MIN_TIMED` were, or
/// `MAX_TIMED` were; the median of their paces is steady where a mean would take a late
/// warm-up batch or a moment of load in whole.
const MIN_TIMED: usize = 3;
const MAX_TIMED: usize = 16;
const TIMED_SECONDS: f64 = 0.5;

/// Times batches of `cfg`'s nets and schedule on `device` (at the thread count set now), after
/// `WARM_UP` untimed ones, on random images of the variant's size; every batch updates
/// (p0 = 1). `labelled`: the dataset has tags (the nets then carry what tags need, with the
/// synthetic faces' vocabulary standing in for the real one).
pub fn probe(cfg: &Config, device: Device, labelled: bool) -> Result<Probe> {
    let batch = match device {
        Device::Cpu => (cfg.train.batch_size as i64).min(CPU_BATCH),
        _ => cfg.train.batch_size as i64,
    };
    let vocab = labelled.then(|| {
        Vocabulary::new(vec![
            crate::synth::HAIR_COLOURS.map(String::from).to_vec(),
            crate::synth::HAIR_LENGTHS.map(String::from).to_vec(),
            crate::synth::EYE_TAGS.map(String::from).to_vec(),
        ])
    });
    let groups: Vec<i64> = vocab.as_ref().map_or_else(Vec::new, |v| {
        v.groups.iter().map(|g| g.len() as i64).collect()
    });
    let one_batch = random_images(batch as usize, cfg.data.image_size, vocab, device);
    let mut nets = Nets::new(cfg, &groups, device)?;
    let plan = EpochPlan {
        schedule: cfg.train.schedule,
        batch_size: batch,
        label_noise: cfg.train.label_noise,
        p0: 1.0,
        d_steps: cfg.train.d_steps,
        g_steps: cfg.train.g_steps,
    };
    let timed = time_batches(|| {
        let started = Instant::now();
        // An epoch's figures are read back to the host at its end: the device has finished.
        let d_batches = run_epoch(&mut nets, &one_batch, &plan).d.batches;
        let seconds = started.elapsed().as_secs_f64().max(1e-9);
        (seconds, d_batches as f64 * batch as f64)
    });
    Ok(Probe {
        images_per_sec: timed.images_per_sec,
        batch,
        batches: timed.batches,
        warm_up: WARM_UP,
    })
}

/// The timing of `run`'s calls, each returning its (seconds, images).
#[derive(Debug, PartialEq)]
struct Timed {
    images_per_sec: f64,
    batches: usize,
}

/// Calls `run` `WARM_UP` times untimed, then times it as the constants say: the median pace.
fn time_batches(mut run: impl FnMut() -> (f64, f64)) -> Timed {
    for _ in 0..WARM_UP {
        run();
    }
    let (mut paces, mut seconds) = (Vec::new(), 0.0);
    while paces.len() < MAX_TIMED && (paces.len() < MIN_TIMED || seconds < TIMED_SECONDS) {
        let (s, images) = run();
        seconds += s;
        paces.push(images / s);
    }
    paces.sort_by(f64::total_cmp);
    Timed {
        images_per_sec: paces[paces.len() / 2],
        batches: paces.len(),
    }
}

/// `n` images of random pixels (and random tags, one per group, when `vocab` is given).
fn random_images(n: usize, size: u32, vocab: Option<Vocabulary>, device: Device) -> DeviceImages {
    let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
    let pixels: Vec<u8> = (0..n * 3 * (size * size) as usize)
        .map(|_| rng.random())
        .collect();
    let mut tags = Vec::new();
    if let Some(v) = &vocab {
        for _ in 0..n {
            for group in &v.groups {
                let pick = rng.random_range(0..group.len());
                tags.extend((0..group.len()).map(|k| u8::from(k == pick)));
            }
        }
    }
    DeviceImages::from_dataset(
        &Dataset {
            size,
            len: n,
            pixels,
            tags,
            vocab,
        },
        device,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a probe over recorded batch times (32 images each; the last repeats): the pace it
    /// reports, the batches it timed and the seconds the timed ones took.
    fn replay(times: &[f64]) -> (f64, usize, f64) {
        let (mut calls, mut spent) = (0, 0.0);
        let timed = time_batches(|| {
            let s = times[calls.min(times.len() - 1)];
            if calls >= WARM_UP {
                spent += s;
            }
            calls += 1;
            (s, 32.0)
        });
        assert_eq!(calls, WARM_UP + timed.batches);
        (timed.images_per_sec, timed.batches, spent)
    }

    #[test]
    fn the_pace_is_timed_after_the_warm_up_and_is_steady() {
        // Per batch seconds measured at 16 px (CGAN, batch 32, 2 loaded cores), from the first.
        let cgan_16px = [
            2.06, 2.02, 0.30, 0.070, 0.043, 0.041, 0.13, 0.072, 0.16, 0.12, 0.040, 0.14, 0.063,
            0.079, 0.083, 0.048, 0.056, 0.18, 0.21, 0.079,
        ];
        let cases: [(&[f64], f64, f64, &str); 4] = [
            (
                &cgan_16px,
                250.0,
                800.0,
                "both slow first batches untimed, the third's 0.3 s outvoted",
            ),
            (&[0.01], 3_199.0, 3_201.0, "steady from the start"),
            (
                &[5.0, 5.0, 1.0, 9.0, 1.0],
                31.9,
                32.1,
                "a slow shape: three batches, a moment of load outvoted",
            ),
            (
                &[2.0, 2.0, 0.01, 0.5, 0.01],
                3_199.0,
                3_201.0,
                "a late slow batch is not the figure",
            ),
        ];
        for (times, low, high, why) in cases {
            let (pace, batches, spent) = replay(times);
            assert!((low..=high).contains(&pace), "{why}: {pace} img/s");
            assert!(batches >= MIN_TIMED, "{why}: {batches} batches timed");
            assert!(
                batches == MIN_TIMED || spent < TIMED_SECONDS + 0.5,
                "{why}: short: {spent} s timed"
            );
        }
    }

    #[test]
    fn a_fast_shape_times_enough_batches_and_stops() {
        let (_, batches, spent) = replay(&[0.05]);
        assert!(
            (10..=11).contains(&batches),
            "0.5 s of 0.05 s batches: {batches}"
        );
        assert!(spent < 0.6, "{spent}");
        assert_eq!(replay(&[0.001]).1, MAX_TIMED, "at most MAX_TIMED");
    }
}
