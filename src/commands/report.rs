//! `anigan-runner report RESULTS/EXPERIMENT`: write the experiment's report.

use anyhow::Result;

use crate::cli::ReportArgs;
use crate::exit::{Exit, usage};
use crate::report::{self, manifest};

pub fn report(args: &ReportArgs) -> Result<Exit> {
    require_experiment_dir(&args.dir)?;
    let written = report::write_report(&args.dir)?;
    eprintln!(
        "report: {} ({} files written; summary.csv, report.md and charts/ beside it)",
        written.html.display(),
        written.files
    );
    Ok(Exit::Success)
}

/// A usage error (exit 2) unless `dir` is an experiment's results directory.
pub(super) fn require_experiment_dir(dir: &std::path::Path) -> Result<()> {
    if dir.join(manifest::FILE).is_file() || dir.join("runs").is_dir() {
        return Ok(());
    }
    Err(usage(format!(
        "{} is not an experiment's results directory (no {} and no runs/): pass \
         RESULTS/EXPERIMENT, e.g. results/smoke",
        dir.display(),
        manifest::FILE
    )))
}

/// The report after (part of) a run: a failure is a warning, never a failed run.
pub fn report_or_warn(exp_dir: &std::path::Path) {
    match report::write_report(exp_dir) {
        Ok(w) => eprintln!("report: {}", w.html.display()),
        Err(e) => eprintln!("warning: the report could not be written: {e:#}"),
    }
}
