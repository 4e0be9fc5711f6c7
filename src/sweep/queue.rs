//! Which variants still need training, in grid order. Another process may train one at the
//! same time: the run directory's lock decides, this only skips what is plainly done or busy.

use anyhow::Result;

use crate::config::Variant;
use crate::results::{RunDir, Status, reader};

/// What to do with a variant now.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Train it; `epochs_done` of its current timeline are already on disk.
    Train { epochs_done: u32 },
    /// Finished up to the planned epochs, or given up as collapsed: `(state word, epochs)`.
    Done(&'static str, u32),
    /// Another process holds the run's lock: `(pid, host)`.
    Busy(u32, String),
}

/// Reads the variant's status once and decides.
pub fn next(dir: &RunDir, variant: &Variant) -> Result<Next> {
    let status = reader::read_status(dir)?;
    if let Some(done) = done(status.as_ref(), variant) {
        return Ok(done);
    }
    Ok(match dir.holder() {
        Some((pid, host)) => Next::Busy(pid, host),
        None => Next::Train {
            epochs_done: status.map_or(0, |s| s.epochs_done),
        },
    })
}

/// `Next::Done` when `status` says nothing is left to train for `variant`.
pub fn done(status: Option<&Status>, variant: &Variant) -> Option<Next> {
    status
        .filter(|s| s.is_done(variant.config.experiment.epochs))
        .map(|s| Next::Done(s.state.word(), s.epochs_done))
}

/// How `next` is told to a person, after the variant's label.
pub fn describe(next: &Next) -> String {
    match next {
        Next::Train { .. } => "to train".to_string(),
        Next::Done(word, epochs) => format!("already {word} ({epochs} epochs); skipping"),
        Next::Busy(pid, host) => {
            format!("is being trained by another process (pid {pid} on {host}); skipping")
        }
    }
}
