//! Rung by rung, a rung is judged once every variant of the experiment that can still reach it
//! has (or has ended): the variants a command leaves out (`--only`, `--variant`) count too, or
//! its decisions would rank against a part of the grid and differ from the sweep's. This finds
//! the ones that have not arrived, and waits while other processes train them.

use std::time::Duration;

use anyhow::Result;

use super::rungwise;
use crate::config::{Experiment, Variant};
use crate::results::{ExperimentDir, RunDir, RunState, Status, reader};
use crate::stop;

/// A variant outside this command that has not reached the rung: its label and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Absent {
    pub id: String,
    /// "not started", "interrupted at epoch 3", "waiting at epoch 2", or "being trained by
    /// pid 12 on node7".
    pub where_: String,
    /// Another process trains it now (it may still arrive while this one waits).
    pub busy: bool,
}

/// How often a waiting command looks again at the variants other processes train.
const POLL: Duration = Duration::from_secs(5);

/// Looks in a row that find none of them being trained before a command stops waiting: a
/// process between two of its variants, or still loading its data, holds no run lock.
const IDLE_LOOKS: u32 = 3;

/// The variants of `experiment` not in `selected` that can reach the rung judged in pass
/// `pass` (the pause epoch of pass `pass - 1`) and have not, nor ended. Errors: a run
/// directory that cannot be read.
pub fn absent(
    experiment: &Experiment,
    selected: &[&Variant],
    exp_dir: &ExperimentDir,
    pass: usize,
) -> Result<Vec<Absent>> {
    let mut out = Vec::new();
    let Some(judged) = pass.checked_sub(1) else {
        return Ok(out);
    };
    for v in &experiment.variants {
        if selected.iter().any(|s| s.id == v.id) {
            continue;
        }
        let Some(pause) = rungwise::pause_epoch(v, judged) else {
            continue; // its budget ends before this rung's evaluation
        };
        let dir = exp_dir.run(&v.id);
        let (state, status) = reader::read_state(&dir)?;
        let done = epochs_kept(&dir, state, status.as_ref())?;
        // Ended ones count as arrived (a collapsed one as the worst figure); a failed one
        // waits for a fix nobody may make, so it holds up no rung.
        let pending = match state {
            RunState::NotStarted
            | RunState::Interrupted
            | RunState::Waiting
            | RunState::Running => true,
            RunState::Finished => status
                .as_ref()
                .is_some_and(|s| !s.is_done(v.config.experiment.epochs)),
            RunState::Collapsed | RunState::Stalled | RunState::Failed | RunState::Pruned => false,
        };
        if !pending || done >= pause {
            continue;
        }
        let where_ = match (state, dir.holder()) {
            (RunState::NotStarted, _) => state.word().to_string(),
            (RunState::Running, Some((pid, host))) => {
                format!("being trained by pid {pid} on {host}")
            }
            _ => format!("{} at epoch {done}", state.word()),
        };
        out.push(Absent {
            id: v.id.clone(),
            busy: state == RunState::Running,
            where_,
        });
    }
    Ok(out)
}

/// The epochs a run has done and keeps: its status's count, or, for a run that stopped
/// (interrupted or waiting), the checkpoint a resume starts from where that is newer. A kill
/// between an epoch's checkpoint and its status leaves the status an epoch short; the rerun
/// starts after that epoch, so it has reached a rung at it as surely as if the status had been
/// written. Errors: metrics.csv or the checkpoint folder cannot be read.
fn epochs_kept(dir: &RunDir, state: RunState, status: Option<&Status>) -> Result<u32> {
    let done = status.map_or(0, |s| s.epochs_done);
    Ok(match state {
        RunState::Interrupted | RunState::Waiting => done.max(reader::resume_epoch(dir)?),
        _ => done,
    })
}

/// `absent`, waited on while other processes train any of them (two commands that split a
/// grid with `--variant` judge each rung together); returns the ones nobody brings (empty:
/// the rung can be judged), or what is left when a stop is requested.
pub fn wait(
    experiment: &Experiment,
    selected: &[&Variant],
    exp_dir: &ExperimentDir,
    pass: usize,
) -> Result<Vec<Absent>> {
    let mut told = false;
    let mut idle_looks = 0;
    loop {
        let left = absent(experiment, selected, exp_dir, pass)?;
        idle_looks = if left.iter().any(|a| a.busy) {
            0
        } else {
            idle_looks + 1
        };
        if left.is_empty() || idle_looks == IDLE_LOOKS || stop::requested() {
            return Ok(left);
        }
        if !told {
            eprintln!(
                "rung {}: waiting for {} variant(s) that this command does not train to reach \
                 it: {}",
                pass,
                left.len(),
                list(&left)
            );
            told = true;
        }
        sleep_unless_stopped(POLL);
    }
}

/// `id (where), ...`.
pub fn list(absent: &[Absent]) -> String {
    absent
        .iter()
        .map(|a| format!("{} ({})", a.id, a.where_))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sleep_unless_stopped(total: Duration) {
    let step = Duration::from_millis(200);
    let mut slept = Duration::ZERO;
    while slept < total && !stop::requested() {
        std::thread::sleep(step);
        slept += step;
    }
}
