//! Data and caches, prepared before training: the dataset on the device (generated and
//! decoded-cached on first use), and for evaluating runs the holdout, the tag classifier
//! (trained once per dataset, then cached) and the reference figures. A `--jobs` sweep calls
//! `warm` in the parent first, so its workers only read caches and never race to write them.

use anyhow::{Context, Result};
use tch::Device;

use crate::config::{DataSection, Variant};
use crate::data::DeviceImages;
use crate::data::{self, DataRoot};
use crate::eval::{self, Evaluator};

/// Prepares every distinct `[data]` of `pending` once (and frees it again): generated faces,
/// decoded caches, classifiers and reference files then exist for the workers.
pub fn warm(
    pending: &[&Variant],
    selected: &[&Variant],
    root: &DataRoot,
    device: Device,
) -> Result<()> {
    let mut seen: Vec<&DataSection> = Vec::new();
    for v in pending {
        if !seen.contains(&&v.config.data) {
            seen.push(&v.config.data);
            prepare(v, selected, root, device, &mut |w| {
                eprintln!("warning: {w}")
            })?;
        }
    }
    Ok(())
}

/// A dataset on the device, and what evaluating against it needs.
pub struct Prepared {
    pub images: DeviceImages,
    /// Which data it is, for the runs' records (run.json).
    pub dataset: data::DataIdentity,
    pub vocab: Option<data::Vocabulary>,
    /// Training images per tag of `vocab`, for the runs' records (run.json).
    pub tag_counts: Option<Vec<u64>>,
    pub evaluator: Option<Evaluator>,
}

/// Loads `variant`'s dataset onto the device; when any selected variant on it evaluates,
/// also its holdout, the tag classifier (trained on first use, then cached) and the reference
/// figures (cached in the cache folder as quality-v2-<key>-<split>.json). Warnings about the
/// data (images left out, no quality figures) go to `warn`.
pub fn prepare(
    variant: &Variant,
    selected: &[&Variant],
    root: &DataRoot,
    device: Device,
    warn: &mut dyn FnMut(String),
) -> Result<Prepared> {
    let data = &variant.config.data;
    let started = std::time::Instant::now();
    let loaded = data::load_dataset(data, root, warn)?;
    let t = &loaded.train;
    let source = if loaded.from_cache {
        "from cache"
    } else {
        "decoded, cached as"
    };
    let skipped = match loaded.skipped.len() {
        0 => String::new(),
        n => format!("; {n} unreadable image(s) skipped"),
    };
    eprintln!(
        "data: {} training + {} held-out images of {} px in {:.2} s ({source} {}){skipped}",
        t.len,
        loaded.holdout.len,
        t.size,
        started.elapsed().as_secs_f64(),
        loaded.cache_file.display(),
    );
    let images = DeviceImages::from_dataset(t, device);
    let evaluating = selected
        .iter()
        .filter(|v| v.config.data == *data && v.config.eval.every > 0)
        .map(|v| v.config.eval.samples)
        .next();
    let evaluator = match evaluating {
        Some(samples) if loaded.holdout.len >= 2 => Some(evaluator(
            &loaded,
            &images,
            data,
            samples,
            &root.cache(),
            device,
        )?),
        Some(_) => {
            warn(format!(
                "no quality figures: [data] holdout = {} leaves too few held-out images",
                loaded.holdout.len
            ));
            None
        }
        None => None,
    };
    Ok(Prepared {
        images,
        dataset: loaded.identity(),
        vocab: t.vocab.clone(),
        tag_counts: t.tag_counts(),
        evaluator,
    })
}

/// What to do when the data cache cannot be written (a colleague's shared cache, say).
const CACHE_HINT: &str = "the data cache must be writable to measure this dataset split's \
     quality reference: run with --data-dir pointing at a folder you can write (its cache is \
     made there), or ask the cache's owner to run this experiment once";

fn evaluator(
    loaded: &data::Loaded,
    images: &DeviceImages,
    data: &DataSection,
    samples: u32,
    cache_dir: &std::path::Path,
    device: Device,
) -> Result<Evaluator> {
    let holdout = DeviceImages::from_dataset(&loaded.holdout, device);
    let split = format!("h{}-l{}-s{}", data.holdout, data.limit, data.seed);
    let vocab = loaded.train.vocab.as_ref().filter(|v| !v.is_empty());
    let classifier_path = eval::classifier::cache_path(cache_dir, &loaded.key, &split);
    let mut cached = eval::reference_cache::read(cache_dir, &loaded.key, &split);
    // A split whose files are all cached is read without its lock: they are written atomically
    // under it, so they are whole when seen, and a colleague who may read but not write a
    // shared data cache runs from it as it is. Anything missing is made under the lock.
    let complete = cached.is_some() && (vocab.is_none() || classifier_path.exists());
    let _split_lock = if complete {
        None
    } else {
        let lock = eval::reference_cache::lock(cache_dir, &loaded.key, &split, &mut |note| {
            eprintln!("{note}")
        })
        .context(CACHE_HINT)?;
        cached = eval::reference_cache::read(cache_dir, &loaded.key, &split);
        Some(lock)
    };
    let classifier = match vocab {
        Some(vocab) => Some(eval::load_or_train(
            &classifier_path,
            &loaded.key,
            vocab,
            images,
            &holdout,
            &mut |note| eprintln!("{note}"),
        )?),
        None => None,
    };
    let e = Evaluator::new(
        &loaded.key,
        vocab,
        images,
        holdout,
        classifier,
        samples as i64,
        0x5d_f100,
        cached.clone(),
    )?;
    let r = &e.reference;
    if cached.as_ref() != Some(r) {
        eval::reference_cache::write(cache_dir, &loaded.key, &split, r).context(CACHE_HINT)?;
    }
    eprintln!(
        "quality reference: swd floor {:.2} +- {:.2} (real vs real, {} random training images \
         against as many held-out ones, sd over {} draws){}",
        r.swd_floor,
        r.swd_floor_std,
        r.samples,
        r.swd_floor_draws,
        r.classifier_accuracy
            .as_ref()
            .zip(vocab)
            .map(|(a, v)| format!(
                "; tag classifier held-out accuracy per group {}",
                v.per_group(a)
            ))
            .unwrap_or_default()
            + &r.tag_kl_floor
                .map(|f| format!("; tag_kl floor {f:.3}"))
                .unwrap_or_default()
    );
    Ok(e)
}
