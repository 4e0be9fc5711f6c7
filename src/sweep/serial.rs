//! Trains variants one after another in this process: `run --jobs 1`, and every worker of a
//! `--jobs N` sweep (one variant each, as a Slurm array task would run it).

use anyhow::Result;
use tch::Device;

use super::budget;
use super::prepare::{Prepared, prepare};
use super::queue::{self, Next, Only};
use super::tally::Tally;
use crate::config::{self, DataSection, Experiment, Variant};
use crate::data::DataRoot;
use crate::results::{ExperimentDir, Peers, Recorder, RunDir, RunInfo};
use crate::train::{self, Job, Outcome};
use crate::{progress, report, stop};

/// Where and how to train.
pub struct Options {
    pub exp_dir: ExperimentDir,
    pub device: Device,
    pub data_root: DataRoot,
    /// `--threads`, when given.
    pub threads: Option<u32>,
    /// Threads when neither `--threads` nor `train.threads` says.
    pub budget: usize,
    /// A worker of a `--jobs` sweep: the parent writes the report and the totals.
    pub worker: bool,
    /// `--only`: the states this rerun trains (collapsed and pruned variants are otherwise
    /// done; a pruned one trains on to its budget).
    pub only: Vec<Only>,
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
            opts.exp_dir.root().display()
        );
        if let Some(line) = config::overrides_line(&experiment.overrides) {
            eprintln!("{line}");
        }
    }
    let mut loaded: Option<(DataSection, Prepared)> = None;
    let mut tally = Tally::default();
    // [prune] ranks a variant against every variant of the experiment, selected or not.
    let ids = experiment.variants.iter().map(|v| v.id.clone()).collect();
    let peers = Peers::new(opts.exp_dir.clone(), ids);
    for (done_before, variant) in selected.iter().enumerate() {
        let dir = opts.exp_dir.run(&variant.id);
        let label = label(experiment, variant);
        let next = queue::next(&dir, variant, &opts.only)?;
        let Next::Train { epochs_done } = next else {
            eprintln!("{label} {}", queue::describe(&next));
            tally.skipped += 1;
            continue;
        };
        // After a stop request only what is left to train counts as not started: a variant
        // already done is done, not something a rerun would resume.
        if stop::requested() {
            tally.not_started += 1;
            continue;
        }
        let threads = budget::threads(opts.threads, variant.config.train.threads, opts.budget);
        train::device::set_cpu_threads(threads);
        let result = (|| -> Result<Ran> {
            let data = &variant.config.data;
            if loaded.as_ref().is_none_or(|(section, _)| section != data) {
                loaded = None; // free the previous dataset's device memory first
                let prepared = prepare(variant, selected, &opts.data_root, opts.device)?;
                loaded = Some((data.clone(), prepared));
            }
            let prepared = &loaded.as_ref().expect("loaded above").1;
            if stop::requested() {
                return Ok(Ran::NotStarted); // asked to stop while the data was being prepared
            }
            let at = Start {
                label: &label,
                epochs_done,
                peers: variant.config.prune.enabled.then_some(&peers),
                only: &opts.only,
            };
            train_variant(experiment, variant, &dir, (opts.device, prepared), &at)
        })();
        if let Ok(Ran::Trained(_)) = &result {
            // This machine's pace for this shape, for later estimates (`sweep::cost`).
            let rows = crate::results::metrics::read(&dir.metrics()).unwrap_or_default();
            super::cost::record(
                &opts.data_root,
                &variant.config,
                opts.device,
                threads,
                &rows,
            );
        }
        match result {
            Ok(Ran::Trained(Outcome::Finished)) => tally.finished += 1,
            Ok(Ran::Trained(Outcome::Collapsed)) => {
                eprintln!("{label} collapsed: see {}", dir.events().display());
                tally.collapsed += 1;
            }
            Ok(Ran::Trained(Outcome::Interrupted)) => tally.interrupted += 1,
            Ok(Ran::Trained(Outcome::Pruned)) => tally.pruned += 1,
            Ok(Ran::Skipped) => tally.skipped += 1,
            Ok(Ran::NotStarted) => tally.not_started += 1,
            Err(e) => {
                eprintln!("{label} failed: {e:#}");
                mark_failed(&dir, variant, &format!("{e:#}"));
                tally.failed += 1;
            }
        }
        // A long sweep keeps a current report while it runs.
        if !opts.worker && done_before + 1 < selected.len() && !stop::requested() {
            report::write_or_warn(&opts.exp_dir);
        }
    }
    if !opts.worker {
        report::write_final(&opts.exp_dir);
        println!("{}", tally.line(&experiment.name));
    }
    Ok(tally)
}

/// What became of a variant this process was to train.
enum Ran {
    Trained(Outcome),
    /// Another process took the lock first, or finished the variant since it was queued.
    Skipped,
    /// A stop was asked for before its training began.
    NotStarted,
}

/// How a variant is named, where its bar starts, and what `[prune]` and `--only` ask.
struct Start<'a> {
    label: &'a str,
    epochs_done: u32,
    /// None when `[prune]` is off.
    peers: Option<&'a Peers>,
    only: &'a [Only],
}

/// Trains one variant under its run directory's lock.
fn train_variant(
    experiment: &Experiment,
    variant: &Variant,
    dir: &RunDir,
    (device, prepared): (Device, &Prepared),
    at: &Start,
) -> Result<Ran> {
    let Some(recorder) = Recorder::open(dir.clone())? else {
        let (pid, host) = dir.holder().unwrap_or((0, "?".into()));
        eprintln!("{} {}", at.label, queue::describe(&Next::Busy(pid, host)));
        return Ok(Ran::Skipped);
    };
    // Checked again under the lock: another process may have finished it meanwhile.
    if let Some(done) = queue::done(recorder.status()?.as_ref(), variant, at.only) {
        eprintln!("{} {}", at.label, queue::describe(&done));
        return Ok(Ran::Skipped);
    }
    recorder.write_config(&variant.config)?;
    recorder.write_run_info(&RunInfo::of(experiment, variant))?;
    if let Some(vocab) = &prepared.vocab
        && variant.config.model.arch == config::Arch::Cgan
    {
        recorder.write_vocabulary(vocab)?;
    }
    let evaluator = prepared
        .evaluator
        .as_ref()
        .filter(|_| variant.config.eval.every > 0);
    if let Some(e) = evaluator {
        recorder.write_quality_reference(&e.reference)?;
    }
    let planned = variant.config.experiment.epochs as u64;
    let bar = progress::epochs(at.label, at.epochs_done as u64, planned);
    let job = Job {
        variant,
        device,
        images: &prepared.images,
        reference: train::real_reference(&prepared.images),
        evaluator,
        recorder: &recorder,
        progress: &bar,
        peers: at.peers,
        continue_pruned: at.only.contains(&Only::Pruned),
    };
    let outcome = train::train(&job);
    bar.finish();
    outcome.map(Ran::Trained)
}

/// Records a failure in status.json so a report can say which variant failed and why; a
/// warning when it cannot.
pub fn mark_failed(dir: &RunDir, variant: &Variant, reason: &str) {
    // Also when the variant failed before its directory existed (its data could not be loaded):
    // the report then lists it as failed with this reason, not as never started.
    if let Err(e) = crate::results::mark_failed(dir, variant.config.experiment.epochs, reason) {
        eprintln!(
            "warning: cannot record the failure in {}: {e:#}",
            dir.status().display()
        );
    }
}
