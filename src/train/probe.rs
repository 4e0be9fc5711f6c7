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
    /// Training images per second (D's real batches, as metrics.csv's `images_per_sec`).
    pub images_per_sec: f64,
    /// The batch size timed (the variant's, capped on a CPU to keep the probe short).
    pub batch: i64,
    pub batches: usize,
}

/// Largest batch a CPU probe times: per image a CPU step costs about the same at any batch.
const CPU_BATCH: i64 = 32;
/// Batches are timed until this long has passed, or `MAX_TIMED` were, after one untimed
/// warm-up batch (whose first passes build libtorch's kernels).
const TIMED_SECONDS: f64 = 1.0;
const MAX_TIMED: usize = 8;

/// Times batches of `cfg`'s nets and schedule on `device` (at the thread count set now), after
/// a warm-up batch, on random images of the variant's size; every batch updates (p0 = 1).
/// `labelled`: the dataset has tags (the nets then carry what tags need, with the synthetic
/// faces' vocabulary standing in for the real one).
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
    run_epoch(&mut nets, &one_batch, &plan);
    let started = Instant::now();
    let (mut batches, mut d_batches) = (0, 0);
    while batches < MAX_TIMED && (batches == 0 || started.elapsed().as_secs_f64() < TIMED_SECONDS) {
        // An epoch's figures are read back to the host at its end: the device has finished.
        d_batches += run_epoch(&mut nets, &one_batch, &plan).d.batches;
        batches += 1;
    }
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    Ok(Probe {
        images_per_sec: d_batches as f64 * batch as f64 / seconds,
        batch,
        batches,
    })
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
