//! Trains variants one after another in this process: `run --jobs 1`, and every worker of a
//! `--jobs N` sweep (one variant each, as a Slurm array task would run it).

use std::time::{Duration, Instant};

use anyhow::Result;
use tch::Device;

use super::prepare::{Prepared, prepare};
use super::queue::{self, Next, Only};
use super::tally::Tally;
use super::{absent, budget, rungwise};
use crate::config::{self, DataSection, Experiment, Variant};
use crate::data::DataRoot;
use crate::results::{DetectorInputs, ExperimentDir, Peers, Recorder, RunDir, RunInfo, State};
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

/// Rung by rung, how old the report may get while variants only pause at a rung.
const PAUSED_REPORT_EVERY: Duration = Duration::from_secs(60);

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
        if rungwise::applies(selected) {
            eprintln!(
                "[prune] with one worker: every variant trains to a rung and waits there; all are \
                 judged there together, then the survivors train on"
            );
        }
    }
    // [prune] ranks a variant against every variant of the experiment, selected or not.
    let ids = experiment.variants.iter().map(|v| v.id.clone()).collect();
    let mut sweep = Sweep {
        experiment,
        selected,
        opts,
        peers: Peers::new(opts.exp_dir.clone(), ids),
        loaded: None,
        ended: vec![None; selected.len()],
        held: false,
    };
    let rungwise = rungwise::applies(selected);
    let passes = if rungwise {
        rungwise::passes(selected)
    } else {
        1
    };
    let mut reported: Option<Instant> = None;
    for pass in 0..passes {
        if rungwise && pass > 0 && !sweep.hold_for_absent(pass)? {
            break;
        }
        let mut trained_in_pass = false;
        for (i, variant) in selected.iter().enumerate() {
            if sweep.ended[i].is_some_and(|e| e != Ended::Paused) {
                continue; // ended for good
            }
            let pause_at = rungwise
                .then(|| rungwise::pause_epoch(variant, pass))
                .flatten();
            let trained = sweep.visit(i, pause_at, pass == 0)?;
            trained_in_pass |= trained;
            // A long sweep keeps a current report while it runs: after each variant that ended
            // and after each pass, but the last (write_final's); after a pause only when the
            // last report is `PAUSED_REPORT_EVERY` old (a report of a big grid takes seconds,
            // and a pass of the first rung can take hours).
            let ended = sweep.ended[i].is_some_and(|e| e != Ended::Paused);
            let last = pass + 1 == passes && i + 1 == selected.len();
            let due = ended || reported.is_none_or(|t| t.elapsed() >= PAUSED_REPORT_EVERY);
            if !opts.worker && !stop::requested() && trained && due && !last {
                report::write_or_warn(&opts.exp_dir);
                reported = Some(Instant::now());
            }
        }
        // A pass that trained nothing (a rerun of a done sweep) changed nothing to report.
        if !opts.worker && trained_in_pass && pass + 1 < passes && !stop::requested() {
            report::write_or_warn(&opts.exp_dir);
            reported = Some(Instant::now());
        }
    }
    let mut tally = sweep.tally();
    tally.rolled_back = super::tally::count_rolled_back(&opts.exp_dir, selected);
    if !opts.worker {
        report::write_final(&opts.exp_dir);
        println!("{}", tally.line(&experiment.name));
    }
    Ok(tally)
}

/// How one variant's part of this sweep ended; `Paused` until a later pass trains it on.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ended {
    Finished,
    Pruned,
    Collapsed,
    Stalled,
    Failed,
    Interrupted,
    NotStarted,
    /// Trained by another process.
    Skipped,
    /// Done before this command, in this state (finished, pruned, collapsed or stalled).
    Already(State),
    /// Waits at a rung for the next pass (`rungwise`).
    Paused,
}

/// The sweep as this process trains it.
struct Sweep<'a> {
    experiment: &'a Experiment,
    selected: &'a [&'a Variant],
    opts: &'a Options,
    peers: Peers,
    loaded: Option<(DataSection, Prepared)>,
    /// Per selected variant: how its part ended so far (None: not visited yet, or at this
    /// pass's rung already).
    ended: Vec<Option<Ended>>,
    /// Rung by rung: the sweep stopped before judging a rung that variants outside this
    /// command have not reached; the ones not ended wait there.
    held: bool,
}

impl Sweep<'_> {
    /// Trains variant `i` (to `pause_at`, else to its budget) unless nothing is left of it;
    /// `first_pass`: the first look at it, where a variant already done is told and counted.
    /// True when it trained (or tried to).
    fn visit(&mut self, i: usize, pause_at: Option<u32>, first_pass: bool) -> Result<bool> {
        let (variant, opts) = (self.selected[i], self.opts);
        let dir = opts.exp_dir.run(&variant.id);
        let label = label(self.experiment, variant);
        let next = queue::next(&dir, variant, &opts.only)?;
        let Next::Train { epochs_done } = next else {
            if first_pass {
                eprintln!("{label} {}", queue::describe(&next));
            }
            self.ended[i] = Some(match next {
                Next::Done(state, _) => Ended::Already(state),
                _ => Ended::Skipped,
            });
            return Ok(false);
        };
        if pause_at.is_some_and(|p| epochs_done >= p) {
            return Ok(false); // at this pass's rung already: waits for the next pass
        }
        // After a stop request only what is left to train counts as not started: a variant
        // already done is done, not something a rerun would resume.
        if stop::requested() {
            self.ended[i] = Some(match self.ended[i] {
                Some(Ended::Paused) => Ended::Interrupted,
                _ => Ended::NotStarted,
            });
            return Ok(false);
        }
        let threads = budget::threads(opts.threads, variant.config.train.threads, opts.budget);
        train::device::set_cpu_threads(threads);
        let result = self.train(variant, &dir, &label, epochs_done, pause_at);
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
        self.ended[i] = Some(match result {
            Ok(Ran::Trained(Outcome::Finished)) => Ended::Finished,
            Ok(Ran::Trained(Outcome::Collapsed)) => {
                eprintln!("{label} collapsed: see {}", dir.events().display());
                Ended::Collapsed
            }
            Ok(Ran::Trained(Outcome::Stalled)) => {
                eprintln!("{label} stalled: see {}", dir.status().display());
                Ended::Stalled
            }
            Ok(Ran::Trained(Outcome::Interrupted)) => Ended::Interrupted,
            Ok(Ran::Trained(Outcome::Pruned)) => Ended::Pruned,
            Ok(Ran::Trained(Outcome::Paused)) => Ended::Paused,
            Ok(Ran::Skipped) => Ended::Skipped,
            Ok(Ran::NotStarted) => Ended::NotStarted,
            Err(e) => {
                eprintln!("{label} failed: {e:#}");
                mark_failed(&dir, variant, &format!("{e:#}"));
                Ended::Failed
            }
        });
        Ok(true)
    }

    /// Before pass `pass` judges its rung: waits while other processes bring variants this
    /// command leaves out to it; false (and the sweep holds, its variants waiting at the rung)
    /// when some have not arrived and nobody trains them, or a stop was requested meanwhile.
    fn hold_for_absent(&mut self, pass: usize) -> Result<bool> {
        let waiting = self
            .ended
            .iter()
            .any(|e| e.is_none_or(|e| e == Ended::Paused));
        if !waiting || stop::requested() {
            return Ok(true);
        }
        let left = absent::wait(self.experiment, self.selected, &self.opts.exp_dir, pass)?;
        if left.is_empty() || stop::requested() {
            return Ok(true);
        }
        eprintln!(
            "rung {pass} is not judged: {} variant(s) of the experiment have not reached it and \
             this command does not train them: {}. The variants here wait at the rung; rerun \
             without --only or --variant (or with their states added to --only) to train them, \
             and every variant is judged there against all",
            left.len(),
            absent::list(&left)
        );
        self.held = true;
        Ok(false)
    }

    /// Loads the variant's data (once per dataset) and trains it.
    fn train(
        &mut self,
        variant: &Variant,
        dir: &RunDir,
        label: &str,
        epochs_done: u32,
        pause_at: Option<u32>,
    ) -> Result<Ran> {
        let opts = self.opts;
        let data = &variant.config.data;
        if self
            .loaded
            .as_ref()
            .is_none_or(|(section, _)| section != data)
        {
            self.loaded = None; // free the previous dataset's device memory first
            // A --jobs worker's data was prepared by the parent first, which said its warnings.
            let worker = opts.worker;
            let mut warn = |w: String| {
                if !worker {
                    eprintln!("warning: {w}")
                }
            };
            let prepared = prepare(
                variant,
                self.selected,
                &opts.data_root,
                opts.device,
                &mut warn,
            )?;
            self.loaded = Some((data.clone(), prepared));
        }
        let prepared = &self.loaded.as_ref().expect("loaded above").1;
        if stop::requested() {
            return Ok(Ran::NotStarted); // asked to stop while the data was being prepared
        }
        let at = Start {
            label,
            epochs_done,
            peers: variant.config.prune.enabled.then_some(&self.peers),
            only: &opts.only,
            pause_at,
        };
        train_variant(self.experiment, variant, dir, (opts.device, prepared), &at)
    }

    /// The count of every selected variant's ending; one paused when the sweep stopped counts
    /// as interrupted.
    fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for ended in &self.ended {
            match ended {
                Some(Ended::Finished) => tally.finished += 1,
                Some(Ended::Pruned) => tally.pruned += 1,
                Some(Ended::Collapsed) => tally.collapsed += 1,
                Some(Ended::Stalled) => tally.stalled += 1,
                Some(Ended::Failed) => tally.failed += 1,
                Some(Ended::Paused) | None if self.held => tally.waiting += 1,
                Some(Ended::Interrupted) | Some(Ended::Paused) => tally.interrupted += 1,
                Some(Ended::NotStarted) | None => tally.not_started += 1,
                Some(Ended::Skipped) => tally.skipped += 1,
                Some(Ended::Already(state)) => tally.add_done(*state),
            }
        }
        tally
    }
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
    /// `rungwise`: the epoch to pause at; None: train to the budget.
    pause_at: Option<u32>,
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
    let reference = train::real_reference(&prepared.images);
    let detector = DetectorInputs {
        epoch_images: prepared.images.len.max(0) as u64,
        real_reference: reference,
    };
    let cgan = variant.config.model.arch == config::Arch::Cgan;
    recorder.write_run_info(&RunInfo::of(
        experiment,
        variant,
        &prepared.dataset,
        detector,
        prepared.tag_counts.clone().filter(|_| cgan),
    ))?;
    if let Some(vocab) = &prepared.vocab
        && cgan
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
        reference,
        evaluator,
        recorder: &recorder,
        progress: &bar,
        peers: at.peers,
        continue_pruned: at.only.contains(&Only::Pruned),
        pause_at: at.pause_at,
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
