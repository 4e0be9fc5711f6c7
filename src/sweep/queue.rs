//! Which variants still need training, in grid order. Another process may train one at the
//! same time: the run directory's lock decides, this only skips what is plainly done or busy.
//! `run --only STATE` reopens collapsed and pruned variants, which are otherwise done.

use std::fmt;
use std::str::FromStr;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::config::Variant;
use crate::results::{RunDir, RunState, State, Status, reader};

/// What to do with a variant now.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Train it; `epochs_done` of its current timeline are already on disk.
    Train { epochs_done: u32 },
    /// Finished up to the planned epochs, given up as collapsed or stalled, or stopped at a
    /// rung: `(state, epochs)`.
    Done(State, u32),
    /// Another process holds the run's lock: `(pid, host)`.
    Busy(u32, String),
}

/// A state `--only` picks variants by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Only {
    Failed,
    Collapsed,
    Stalled,
    Pruned,
    Interrupted,
    NotStarted,
}

impl Only {
    pub const ALL: [Only; 6] = [
        Only::Failed,
        Only::Collapsed,
        Only::Stalled,
        Only::Pruned,
        Only::Interrupted,
        Only::NotStarted,
    ];

    pub fn word(self) -> &'static str {
        match self {
            Only::Failed => "failed",
            Only::Collapsed => "collapsed",
            Only::Stalled => "stalled",
            Only::Pruned => "pruned",
            Only::Interrupted => "interrupted",
            Only::NotStarted => "not-started",
        }
    }

    /// Whether a variant in `state` is one `--only` names.
    pub fn matches(self, state: RunState) -> bool {
        matches!(
            (self, state),
            (Only::Failed, RunState::Failed)
                | (Only::Collapsed, RunState::Collapsed)
                | (Only::Stalled, RunState::Stalled)
                | (Only::Pruned, RunState::Pruned)
                | (Only::Interrupted, RunState::Interrupted | RunState::Waiting)
                | (Only::NotStarted, RunState::NotStarted)
        )
    }
}

impl fmt::Display for Only {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

impl FromStr for Only {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Only::ALL
            .into_iter()
            .find(|o| o.word() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Only::ALL.iter().map(|o| o.word()).collect();
                format!("{s:?} is no state --only takes: {}", names.join(", "))
            })
    }
}

/// Reads the variant's status once and decides; `only`: the states `--only` named (a
/// collapsed, stalled or pruned variant is trained again only when its state is among them).
pub fn next(dir: &RunDir, variant: &Variant, only: &[Only]) -> Result<Next> {
    let status = reader::read_status(dir)?;
    if let Some(done) = done(status.as_ref(), variant, only) {
        return Ok(done);
    }
    Ok(match dir.holder() {
        Some((pid, host)) => Next::Busy(pid, host),
        None => Next::Train {
            epochs_done: status.map_or(0, |s| s.epochs_done),
        },
    })
}

/// `Next::Done` when `status` says nothing is left to train for `variant`, unless `only`
/// reopens its state.
pub fn done(status: Option<&Status>, variant: &Variant, only: &[Only]) -> Option<Next> {
    let reopened = |s: &Status| match s.state {
        State::Collapsed => only.contains(&Only::Collapsed),
        State::Stalled => only.contains(&Only::Stalled),
        State::Pruned => only.contains(&Only::Pruned),
        _ => false,
    };
    status
        .filter(|s| s.is_done(variant.config.experiment.epochs) && !reopened(s))
        .map(|s| Next::Done(s.state, s.epochs_done))
}

/// How `next` is told to a person, after the variant's label.
pub fn describe(next: &Next) -> String {
    match next {
        Next::Train { .. } => "to train".to_string(),
        Next::Done(state, epochs) => {
            format!("already {} ({epochs} epochs); skipping", state.word())
        }
        Next::Busy(pid, host) => {
            format!("is being trained by another process (pid {pid} on {host}); skipping")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_and_the_states_they_match() {
        let rows = [
            ("failed", RunState::Failed, true, "its own state"),
            (
                "not-started",
                RunState::NotStarted,
                true,
                "spelled with a hyphen",
            ),
            ("pruned", RunState::Pruned, true, "a stop at a rung"),
            (
                "interrupted",
                RunState::Waiting,
                true,
                "waiting at a rung: resumed as an interrupted run is",
            ),
            (
                "pruned",
                RunState::Finished,
                false,
                "a pruned run trained on is finished",
            ),
            (
                "interrupted",
                RunState::Running,
                false,
                "another process trains it",
            ),
            ("collapsed", RunState::Failed, false, "another state"),
            (
                "stalled",
                RunState::Stalled,
                true,
                "a run that got nowhere, to train on from its last checkpoint",
            ),
            (
                "collapsed",
                RunState::Stalled,
                false,
                "stalled is no collapse",
            ),
        ];
        for (word, state, want, why) in rows {
            let only: Only = word.parse().unwrap();
            assert_eq!(only.to_string(), word, "{why}: written as read");
            assert_eq!(only.matches(state), want, "{why}");
        }
        let err = "finished".parse::<Only>().unwrap_err();
        assert!(
            err.contains("failed, collapsed, stalled, pruned, interrupted, not-started"),
            "{err}"
        );
    }
}
