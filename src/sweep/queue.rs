//! Which variants still need training, in grid order. Another process may train one at the
//! same time: the run directory's lock decides, this only skips what is plainly done or busy.

use anyhow::Result;

use crate::config::Variant;
use crate::store::RunDir;
use crate::store::status::{State, Status};

/// What to do with a variant now.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Train,
    /// Finished up to the planned epochs, or given up as collapsed: `(state word, epochs)`.
    Done(&'static str, u32),
    /// Another process holds the run's lock: `(pid, host)`.
    Busy(u32, String),
}

pub fn next(dir: &RunDir, variant: &Variant) -> Result<Next> {
    if let Some(status) = Status::read(&dir.status())?
        && done(&status, variant.config.experiment.epochs)
    {
        return Ok(Next::Done(state_word(status.state), status.epochs_done));
    }
    Ok(match dir.holder() {
        Some((pid, host)) => Next::Busy(pid, host),
        None => Next::Train,
    })
}

/// Finished up to `planned` epochs (a raised `experiment.epochs` extends a finished run), or
/// given up as collapsed.
pub fn done(status: &Status, planned: u32) -> bool {
    match status.state {
        State::Finished => status.epochs_done >= planned,
        State::Collapsed | State::Stalled => true,
        State::Running | State::Failed | State::Interrupted => false,
    }
}

pub fn state_word(state: State) -> &'static str {
    match state {
        State::Finished => "finished",
        State::Collapsed => "collapsed",
        State::Stalled => "stalled",
        State::Running => "running",
        State::Failed => "failed",
        State::Interrupted => "interrupted",
    }
}

/// How `next` is told to a person, after the variant's label.
pub fn describe(next: &Next) -> String {
    match next {
        Next::Train => "to train".to_string(),
        Next::Done(word, epochs) => format!("already {word} ({epochs} epochs); skipping"),
        Next::Busy(pid, host) => {
            format!("is being trained by another process (pid {pid} on {host}); skipping")
        }
    }
}
