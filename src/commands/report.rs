//! `anigan-runner report RESULTS/EXPERIMENT [--out DIR]`: write the experiment's report into
//! its folder, or into DIR (a colleague's read-only sweep), writing nothing into the folder.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::ReportArgs;
use crate::exit::{Exit, usage};
use crate::report::{self, Target};
use crate::results::{ExperimentDir, names};

pub fn report(args: &ReportArgs) -> Result<Exit> {
    let dir = experiment_dir(&args.dir)?;
    let written = match &args.out {
        Some(out) => report_elsewhere(&dir, out)?,
        None => {
            super::writable::check(
                &dir.report_places()?,
                "pass --out DIR to write the report into a folder of yours (it shows these \
                 results' sample grids from where they are), or `anigan-runner status` reads \
                 without writing",
            )?;
            report::write_report(&dir)?
        }
    };
    println!(
        "report: {} ({} files written; summary.csv, report.md and charts/ beside it)",
        written.html.display(),
        written.files
    );
    Ok(Exit::Success)
}

/// The report of `exp` written into `out` (created if missing), outside the experiment's
/// folder and writable (a usage error otherwise), reading `exp` only.
fn report_elsewhere(exp: &ExperimentDir, out: &Path) -> Result<report::Written> {
    check_out(exp, out)?;
    super::writable::check(
        &Target::out_places(out),
        "pass --out with a folder you can write to",
    )?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    report::write_report_to(exp, &Target::out(out, exp)?)
}

/// `--out` names a folder (or nothing yet) outside the experiment's folder: a report written
/// inside it would write into the results it reads.
fn check_out(exp: &ExperimentDir, out: &Path) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(usage(format!(
            "--out {} is a file: pass a folder for the report (created if missing)",
            out.display()
        )));
    }
    let results = report::target::resolved(exp.root())?;
    if report::target::resolved(out)?.starts_with(&results) {
        return Err(usage(format!(
            "--out {} is inside the experiment's folder {}: --out writes nothing there; pass a \
             folder outside it (e.g. --out reports/{}), or leave --out out to write the report \
             into the experiment's folder",
            out.display(),
            exp.root().display(),
            exp.name()
        )));
    }
    Ok(())
}

/// `dir` as an experiment's results directory; a usage error (exit 2) when it is not one.
pub(super) fn experiment_dir(dir: &Path) -> Result<ExperimentDir> {
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
