//! A run resumes only on the data it started on. Its run.json records the dataset's identity
//! (`data::DataIdentity`); images added, removed or edited since (a corrupt file fixed, a
//! folder grown) would give the resumed run another holdout split (held-out images trained
//! on), another swd floor and rows that no uninterrupted run has. Checked by `run` and `slurm`
//! before anything is written, so it is a settings error (exit 2) with the ways out.

use anyhow::Result;

use super::queue::{self, Only};
use crate::config::{ConfigErrors, DataSection, Variant};
use crate::data::{self, DataIdentity, DataRoot};
use crate::results::{ExperimentDir, reader};

/// A problem for each of `selected` that would train on (resume, or extend) a run whose record
/// names other data than its `[data]` holds now. Variants with nothing left to train, runs not
/// started and runs written before the record existed pass.
pub fn check(
    selected: &[&Variant],
    exp_dir: &ExperimentDir,
    root: &DataRoot,
    only: &[Only],
) -> Result<()> {
    // Each distinct [data] is listed once, as `prepare::warm` loads each once.
    let mut now: Vec<(&DataSection, Option<DataIdentity>)> = Vec::new();
    let mut problems = Vec::new();
    for v in selected {
        let dir = exp_dir.run(&v.id);
        let Some(before) = reader::read_run_info(&dir)?.and_then(|i| i.dataset) else {
            continue;
        };
        let status = reader::read_status(&dir)?;
        if queue::done(status.as_ref(), v, only).is_some() {
            continue;
        }
        let d = &v.config.data;
        let current = match now.iter().find(|(section, _)| *section == d) {
            Some((_, c)) => c.clone(),
            None => {
                // A synthetic folder damaged or missing is generated again, the same images,
                // before it trains: not compared.
                let c = match data::synthetic_to_generate(d, root) {
                    Some(_) => None,
                    None => data::identity(d, root)?,
                };
                now.push((d, c.clone()));
                c
            }
        };
        if let Some(current) = current.filter(|c| c.key != before.key) {
            problems.push(problem(
                &dir.root.display().to_string(),
                d,
                &before,
                &current,
            ));
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(ConfigErrors(problems).into()),
    }
}

fn problem(run: &str, d: &DataSection, before: &DataIdentity, now: &DataIdentity) -> String {
    let what = match d.path.is_empty() {
        true => "its synthetic data".to_string(),
        false => format!("data.path = {:?}", d.path),
    };
    let count = match before.images == now.images {
        true => format!(
            "the same {} images, but their contents or tags differ",
            now.images
        ),
        false => format!("{} images then, {} now", before.images, now.images),
    };
    format!(
        "{run} started on other data: {what} changed since ({count}), and a resume would \
         split it into other training and held-out images. Put the data back as it was to \
         resume, or start the run afresh on the new data: delete {run}, or give the experiment \
         another name (--set experiment.name=NEW)"
    )
}
