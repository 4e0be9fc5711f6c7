//! `anigan-runner report RESULTS/EXPERIMENT`: write the experiment's report.

use anyhow::Result;

use crate::cli::ReportArgs;
use crate::exit::{Exit, usage};
use crate::report;
use crate::results::{ExperimentDir, names};

pub fn report(args: &ReportArgs) -> Result<Exit> {
    let dir = experiment_dir(&args.dir)?;
    super::writable::check(
        &dir.report_places()?,
        "`anigan-runner status` reads without writing, or copy the folder somewhere writable \
         and run report on the copy",
    )?;
    let written = report::write_report(&dir)?;
    println!(
        "report: {} ({} files written; summary.csv, report.md and charts/ beside it)",
        written.html.display(),
        written.files
    );
    Ok(Exit::Success)
}

/// `dir` as an experiment's results directory; a usage error (exit 2) when it is not one.
pub(super) fn experiment_dir(dir: &std::path::Path) -> Result<ExperimentDir> {
    let exp = ExperimentDir::at(dir);
    if exp.exists() {
        return Ok(exp);
    }
    Err(usage(format!(
        "{} is not an experiment's results directory (no {} and no {}/): pass \
         RESULTS/EXPERIMENT, e.g. results/smoke",
        dir.display(),
        names::MANIFEST,
        names::RUNS
    )))
}
