//! `anigan-runner worker` (hidden): one worker process of a `run --jobs N` sweep. It reads its
//! variant from stdin (`sweep::worker::WorkerSpec`) and trains it as `run --jobs 1` would;
//! the parent shows its output, counts its exit code and writes the report.

use anyhow::{Context, Result};

use crate::config::{self, Overrides};
use crate::data::DataRoot;
use crate::exit::{Exit, usage};
use crate::results::ExperimentDir;
use crate::stop;
use crate::sweep::serial;
use crate::sweep::worker::WorkerSpec;
use crate::train;

pub fn worker() -> Result<Exit> {
    let spec = WorkerSpec::receive().map_err(|e| usage(format!("{e:#}")))?;
    stop::install(false)?;
    let experiment = config::resolve(
        &spec.experiment,
        &Overrides::from_environment(spec.sets.clone()),
    )?;
    let variant = experiment
        .variants
        .iter()
        .find(|v| v.id == spec.variant)
        .with_context(|| {
            format!(
                "{} has no variant {}",
                spec.experiment.display(),
                spec.variant
            )
        })?;
    let choice = spec.device.parse().map_err(anyhow::Error::msg)?;
    let options = serial::Options {
        exp_dir: ExperimentDir::new(&spec.results, &experiment.name),
        device: train::device::select(choice)?,
        data_root: DataRoot(spec.data_dir.clone()),
        threads: spec.threads,
        budget: spec.thread_budget,
        worker: true,
        only: spec.only.clone(),
    };
    Ok(serial::run(&experiment, &[variant], &options)?.exit())
}
