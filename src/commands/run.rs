//! `anigan-runner [run] EXPERIMENT.toml`: resolve the variants, then train them (or list them).

use anyhow::{Context, Result};
use tch::Device;

use super::report::report_or_warn;
use crate::cli::RunArgs;
use crate::config::{self, ConfigErrors, DataSection, Experiment, Overrides, Variant};
use crate::data::{self, DataRoot};
use crate::eval::{self, Evaluator};
use crate::exit::Exit;
use crate::report::manifest::{self, Manifest};
use crate::store::RunDir;
use crate::store::status::{State, Status};
use crate::train::{self, DeviceImages, Job, Outcome};
use crate::{fsx, progress};

pub fn run(args: &RunArgs) -> Result<Exit> {
    let overrides = Overrides {
        env: std::env::vars().collect(),
        sets: args.sets.clone(),
    };
    let experiment = config::resolve(&args.experiment, &overrides)?;
    let selected = select(&experiment, &args.variants)?;
    if args.dry_run {
        print!("{}", plan(&experiment, &selected));
        return Ok(Exit::Success);
    }
    train_all(args, &experiment, &selected)
}

/// How a batch of variants went.
#[derive(Debug, Default)]
struct Tally {
    finished: usize,
    skipped: usize,
    collapsed: usize,
    failed: usize,
}

fn train_all(args: &RunArgs, experiment: &Experiment, selected: &[&Variant]) -> Result<Exit> {
    let device = train::device::select(args.device)?;
    let threads = train::device::set_cpu_threads(selected[0].config.train.threads);
    let exp_dir = args.results.join(&experiment.name);
    eprintln!(
        "experiment {}: {} variant(s) on {} ({} CPU threads), results in {}",
        experiment.name,
        selected.len(),
        train::device::describe(device),
        threads,
        exp_dir.display()
    );
    let manifest = Manifest::of(experiment);
    fsx::write_atomic(&exp_dir.join(manifest::FILE), &manifest.to_json())?;
    let data_root = DataRoot(args.data_dir.clone());
    let mut loaded: Option<(DataSection, Prepared)> = None;
    let mut tally = Tally::default();
    for (done_before, variant) in selected.iter().enumerate() {
        let dir = RunDir::new(&exp_dir, &variant.id);
        let label = format!(
            "[{}/{}] {}",
            variant.index + 1,
            experiment.variants.len(),
            variant.id
        );
        if let Some(status) = Status::read(&dir.status())?
            && done(&status, variant.config.experiment.epochs)
        {
            eprintln!(
                "{label} already {} ({} epochs); skipping",
                state_word(status.state),
                status.epochs_done
            );
            tally.skipped += 1;
            continue;
        }
        let result = (|| -> Result<Outcome> {
            let data = &variant.config.data;
            if loaded.as_ref().is_none_or(|(section, _)| section != data) {
                loaded = None; // free the previous dataset's device memory first
                let prepared = prepare(variant, selected, &data_root, device)?;
                loaded = Some((data.clone(), prepared));
            }
            let prepared = &loaded.as_ref().expect("loaded above").1;
            train_variant(variant, &dir, device, prepared, &label)
        })();
        match result {
            Ok(Outcome::Finished) => tally.finished += 1,
            Ok(Outcome::Collapsed) => {
                eprintln!("{label} collapsed: see {}", dir.events().display());
                tally.collapsed += 1;
            }
            Err(e) => {
                eprintln!("{label} failed: {e:#}");
                mark_failed(&dir, variant, &e);
                tally.failed += 1;
            }
        }
        // A long sweep keeps a current report while it runs.
        if done_before + 1 < selected.len() {
            report_or_warn(&exp_dir);
        }
    }
    report_or_warn(&exp_dir);
    eprintln!(
        "experiment {}: {} finished, {} collapsed, {} failed, {} skipped (already done)",
        experiment.name, tally.finished, tally.collapsed, tally.failed, tally.skipped
    );
    Ok(if tally.failed > 0 {
        Exit::Failed
    } else if tally.collapsed > 0 {
        Exit::Collapsed
    } else {
        Exit::Success
    })
}

/// Finished up to `planned` epochs (a raised `experiment.epochs` extends a finished run), or
/// given up as collapsed.
pub(super) fn done(status: &Status, planned: u32) -> bool {
    match status.state {
        State::Finished => status.epochs_done >= planned,
        State::Collapsed => true,
        State::Running | State::Failed => false,
    }
}

fn state_word(state: State) -> &'static str {
    match state {
        State::Finished => "finished",
        State::Collapsed => "collapsed",
        State::Running => "running",
        State::Failed => "failed",
    }
}

/// Builds every dataset, cache, tag classifier and quality reference the variants need, on
/// the CPU, so that the processes that train them later only read them.
pub(super) fn prepare_data(variants: &[&Variant], data_dir: &std::path::Path) -> Result<()> {
    let root = DataRoot(data_dir.to_path_buf());
    let mut done: Vec<&DataSection> = Vec::new();
    for v in variants {
        if !done.contains(&&v.config.data) {
            prepare(v, variants, &root, Device::Cpu)?;
            done.push(&v.config.data);
        }
    }
    Ok(())
}

/// A dataset on the device, and what evaluating against it needs.
struct Prepared {
    images: DeviceImages,
    vocab: Option<data::Vocabulary>,
    evaluator: Option<Evaluator>,
}

/// Loads `variant`'s dataset onto the device; when any selected variant on it evaluates,
/// also its holdout, the tag classifier (trained on first use, then cached) and the reference
/// figures (written to the cache folder as quality-v1-<key>-<split>.json).
fn prepare(
    variant: &Variant,
    selected: &[&Variant],
    root: &DataRoot,
    device: Device,
) -> Result<Prepared> {
    let data = &variant.config.data;
    let started = std::time::Instant::now();
    let loaded = data::load_dataset(data, root, &mut |w| eprintln!("warning: {w}"))?;
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
            eprintln!(
                "warning: no quality figures: [data] holdout = {} leaves too few held-out images",
                loaded.holdout.len
            );
            None
        }
        None => None,
    };
    Ok(Prepared {
        images,
        vocab: t.vocab.clone(),
        evaluator,
    })
}

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
    let classifier = match vocab {
        Some(vocab) => Some(eval::load_or_train(
            &eval::classifier::cache_path(cache_dir, &loaded.key, &split),
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
    )?;
    let r = &e.reference;
    let json = serde_json::to_string_pretty(r).expect("reference serializes");
    let path = cache_dir.join(format!("quality-v1-{}-{split}.json", loaded.key));
    fsx::write_atomic(&path, format!("{json}\n").as_bytes())?;
    eprintln!(
        "quality reference: swd floor {:.2} (real vs real, {} images){}",
        r.swd_floor,
        r.samples,
        r.classifier_accuracy
            .as_ref()
            .map(|a| format!("; tag classifier held-out accuracy per group {a:.3?}"))
            .unwrap_or_default()
    );
    Ok(e)
}

fn train_variant(
    variant: &Variant,
    dir: &RunDir,
    device: Device,
    prepared: &Prepared,
    label: &str,
) -> Result<Outcome> {
    let _lock = dir.create_and_lock()?;
    let resolved = toml::to_string(&variant.config).context("config serializes to TOML")?;
    fsx::write_atomic(&dir.config(), resolved.as_bytes())?;
    let images = &prepared.images;
    if let Some(vocab) = &prepared.vocab
        && variant.config.model.arch == config::Arch::Cgan
    {
        super::sample::write_vocabulary(&dir.tags(), vocab)?;
    }
    let evaluator = prepared
        .evaluator
        .as_ref()
        .filter(|_| variant.config.eval.every > 0);
    if let Some(e) = evaluator {
        let json = serde_json::to_string_pretty(&e.reference).expect("reference serializes");
        fsx::write_atomic(&dir.quality_reference(), format!("{json}\n").as_bytes())?;
    }
    let planned = variant.config.experiment.epochs as u64;
    let before = Status::read(&dir.status())?.map_or(0, |s| s.epochs_done as u64);
    let bar = progress::epochs(label, before, planned);
    let job = Job {
        variant,
        dir: dir.clone(),
        device,
        images,
        reference: train::real_reference(images),
        evaluator,
        bar: &bar,
    };
    let outcome = train::train(&job);
    bar.finish();
    outcome
}

/// Records a failure in status.json so a report can say which variant failed and why.
fn mark_failed(dir: &RunDir, variant: &Variant, error: &anyhow::Error) {
    if !dir.root.exists() {
        return;
    }
    let previous = Status::read(&dir.status()).ok().flatten();
    let status = Status {
        state: State::Failed,
        epochs_done: previous.as_ref().map_or(0, |s| s.epochs_done),
        epochs_planned: variant.config.experiment.epochs,
        steps_done: previous.as_ref().map_or(0, |s| s.steps_done),
        attempt: previous.as_ref().map_or(0, |s| s.attempt),
        last_checkpoint: previous.and_then(|s| s.last_checkpoint),
        reason: Some(format!("{error:#}")),
    };
    if let Err(e) = status.write(&dir.status()) {
        eprintln!(
            "warning: cannot record the failure in {}: {e:#}",
            dir.status().display()
        );
    }
}

/// The variants named by `--variant` (index or id), or all of them.
pub(super) fn select<'a>(
    experiment: &'a Experiment,
    selectors: &[String],
) -> Result<Vec<&'a Variant>> {
    if selectors.is_empty() {
        return Ok(experiment.variants.iter().collect());
    }
    let mut chosen: Vec<&Variant> = Vec::new();
    let mut problems = Vec::new();
    for sel in selectors {
        let found = experiment
            .variants
            .iter()
            .find(|v| v.id == *sel || sel.parse::<usize>().is_ok_and(|i| i == v.index));
        match found {
            Some(v) if !chosen.iter().any(|c| c.index == v.index) => chosen.push(v),
            Some(_) => {}
            None => problems.push(format!(
                "--variant {sel} matches no variant of {} (indexes 0..={}; --dry-run lists the ids)",
                experiment.file.display(),
                experiment.variants.len() - 1
            )),
        }
    }
    if problems.is_empty() {
        chosen.sort_by_key(|v| v.index);
        Ok(chosen)
    } else {
        Err(ConfigErrors(problems).into())
    }
}

/// One line per variant (index, id, grid values) and the total.
fn plan(experiment: &Experiment, selected: &[&Variant]) -> String {
    let mut out = format!(
        "experiment {} ({}): {} variant{}",
        experiment.name,
        experiment.file.display(),
        experiment.variants.len(),
        if experiment.variants.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    if !experiment.grid_keys.is_empty() {
        out += &format!(", grid over {}", experiment.grid_keys.join(" x "));
    }
    out += "\n";
    for v in selected {
        let values: Vec<String> = v
            .grid_values
            .iter()
            .map(|(k, val)| format!("{k}={val}"))
            .collect();
        out += &format!("{:>5}  {}  {}\n", v.index, v.id, values.join(" "));
    }
    out += &format!(
        "{} of {} variants selected; nothing written (dry run)\n",
        selected.len(),
        experiment.variants.len()
    );
    out
}
