//! Trains variants one after another in this process: `run --jobs 1`, and every worker of a
//! `--jobs N` sweep (one variant each, as a Slurm array task would run it).

use std::path::PathBuf;

use anyhow::{Context, Result};
use tch::Device;

use super::budget;
use super::prepare::{Prepared, prepare};
use super::queue::{self, Next};
use super::tally::Tally;
use crate::commands::report_or_warn;
use crate::config::{self, DataSection, Experiment, Variant};
use crate::data::DataRoot;
use crate::store::RunDir;
use crate::store::status::{State, Status};
use crate::train::{self, Job, Outcome};
use crate::{fsx, progress, stop};

/// Where and how to train.
pub struct Options {
    pub exp_dir: PathBuf,
    pub device: Device,
    pub data_root: DataRoot,
    /// `--threads`, when given.
    pub threads: Option<u32>,
    /// Threads when neither `--threads` nor `train.threads` says.
    pub budget: usize,
    /// A worker of a `--jobs` sweep: the parent writes the report and the totals.
    pub worker: bool,
}

/// `[i/N] id`: how a variant is named in every line about it.
pub fn label(experiment: &Experiment, variant: &Variant) -> String {
    format!(
        "[{}/{}] {}",
        variant.index + 1,
        experiment.variants.len(),
        variant.id
    )
}

pub fn run(experiment: &Experiment, selected: &[&Variant], opts: &Options) -> Result<Tally> {
    if !opts.worker {
        eprintln!(
            "experiment {}: {} variant(s) on {} ({} CPU threads), results in {}",
            experiment.name,
            selected.len(),
            train::device::describe(opts.device),
            budget::threads(opts.threads, selected[0].config.train.threads, opts.budget),
            opts.exp_dir.display()
        );
    }
    let mut loaded: Option<(DataSection, Prepared)> = None;
    let mut tally = Tally::default();
    for (done_before, variant) in selected.iter().enumerate() {
        if stop::requested() {
            tally.not_started = selected.len() - done_before;
            break;
        }
        let dir = RunDir::new(&opts.exp_dir, &variant.id);
        let label = label(experiment, variant);
        let next = queue::next(&dir, variant)?;
        if next != Next::Train {
            eprintln!("{label} {}", queue::describe(&next));
            tally.skipped += 1;
            continue;
        }
        let threads = budget::threads(opts.threads, variant.config.train.threads, opts.budget);
        train::device::set_cpu_threads(threads);
        let result = (|| -> Result<Option<Outcome>> {
            let data = &variant.config.data;
            if loaded.as_ref().is_none_or(|(section, _)| section != data) {
                loaded = None; // free the previous dataset's device memory first
                let prepared = prepare(variant, selected, &opts.data_root, opts.device)?;
                loaded = Some((data.clone(), prepared));
            }
            let prepared = &loaded.as_ref().expect("loaded above").1;
            if stop::requested() {
                return Ok(None); // asked to stop while the data was being prepared
            }
            train_variant(variant, &dir, opts.device, prepared, &label)
        })();
        match result {
            Ok(Some(Outcome::Finished)) => tally.finished += 1,
            Ok(Some(Outcome::Collapsed)) => {
                eprintln!("{label} collapsed: see {}", dir.events().display());
                tally.collapsed += 1;
            }
            Ok(Some(Outcome::Stalled)) => {
                eprintln!("{label} stalled: see {}", dir.status().display());
                tally.stalled += 1;
            }
            Ok(Some(Outcome::Interrupted)) => tally.interrupted += 1,
            Ok(None) if stop::requested() => tally.not_started += 1,
            Ok(None) => tally.skipped += 1,
            Err(e) => {
                eprintln!("{label} failed: {e:#}");
                mark_failed(&dir, variant, &format!("{e:#}"));
                tally.failed += 1;
            }
        }
        // A long sweep keeps a current report while it runs.
        if !opts.worker && done_before + 1 < selected.len() && !stop::requested() {
            report_or_warn(&opts.exp_dir);
        }
    }
    if !opts.worker {
        report_or_warn(&opts.exp_dir);
        eprintln!("{}", tally.line(&experiment.name));
    }
    Ok(tally)
}

/// Trains one variant under its run directory's lock. None: another process took the lock
/// first, or finished the variant since it was queued.
fn train_variant(
    variant: &Variant,
    dir: &RunDir,
    device: Device,
    prepared: &Prepared,
    label: &str,
) -> Result<Option<Outcome>> {
    let Some(_lock) = dir.create_and_lock()? else {
        let (pid, host) = dir.holder().unwrap_or((0, "?".into()));
        eprintln!("{label} {}", queue::describe(&Next::Busy(pid, host)));
        return Ok(None);
    };
    // Checked again under the lock: another process may have finished it meanwhile.
    if let Some(status) = Status::read(&dir.status())?
        && queue::done(&status, variant.config.experiment.epochs)
    {
        let next = Next::Done(queue::state_word(status.state), status.epochs_done);
        eprintln!("{label} {}", queue::describe(&next));
        return Ok(None);
    }
    let resolved = toml::to_string(&variant.config).context("config serializes to TOML")?;
    fsx::write_atomic(&dir.config(), resolved.as_bytes())?;
    let images = &prepared.images;
    if let Some(vocab) = &prepared.vocab
        && variant.config.model.arch == config::Arch::Cgan
    {
        crate::commands::write_vocabulary(&dir.tags(), vocab)?;
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
    outcome.map(Some)
}

/// Records a failure in status.json so a report can say which variant failed and why.
pub fn mark_failed(dir: &RunDir, variant: &Variant, reason: &str) {
    // Also when the variant failed before its directory existed (its data could not be loaded):
    // the report then lists it as failed with this reason, not as never started.
    let previous = Status::read(&dir.status()).ok().flatten();
    let status = Status {
        state: State::Failed,
        epochs_done: previous.as_ref().map_or(0, |s| s.epochs_done),
        epochs_planned: variant.config.experiment.epochs,
        steps_done: previous.as_ref().map_or(0, |s| s.steps_done),
        attempt: previous.as_ref().map_or(0, |s| s.attempt),
        last_checkpoint: previous.and_then(|s| s.last_checkpoint),
        reason: Some(reason.to_string()),
    };
    if let Err(e) = status.write(&dir.status()) {
        eprintln!(
            "warning: cannot record the failure in {}: {e:#}",
            dir.status().display()
        );
    }
}
