//! How a sweep went, and its exit code.

use super::queue::Next;
use crate::config::Variant;
use crate::exit::Exit;
use crate::results::{ExperimentDir, State, reader};

#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub finished: usize,
    /// Stopped at a rung by `[prune]`: a success, like finished.
    pub pruned: usize,
    /// Being trained by another process.
    pub skipped: usize,
    /// Of the counts by state, the variants already in that state before this command (not
    /// trained again): a rerun of a sweep with a collapsed variant still exits 3.
    pub already: usize,
    pub collapsed: usize,
    /// Ended `stalled`: trained without collapsing but never got near the data.
    pub stalled: usize,
    pub failed: usize,
    pub interrupted: usize,
    /// Left in the queue by a stop request.
    pub not_started: usize,
    /// Rung by rung: waiting at a rung that variants this command does not train have not
    /// reached (`--only`, `--variant`).
    pub waiting: usize,
    /// Of the finished variants, those a rollback rescued: they finished with settings other
    /// than their grid point's (`count_rolled_back`).
    pub rolled_back: usize,
}

/// How many of `variants` ended finished after a rollback (events.csv has a rollback row):
/// a smoke run that passed only thanks to one should say so.
pub fn count_rolled_back(exp_dir: &ExperimentDir, variants: &[&Variant]) -> usize {
    variants
        .iter()
        .map(|v| exp_dir.run(&v.id))
        .filter(|dir| {
            reader::read_status(dir)
                .ok()
                .flatten()
                .is_some_and(|s| s.state == State::Finished)
        })
        .filter(|dir| {
            reader::read_events(dir).is_ok_and(|rows| rows.iter().any(|r| r.is_rollback()))
        })
        .count()
}

impl Tally {
    /// A variant done before this command, counted in its state.
    pub fn add_done(&mut self, state: State) {
        match state {
            State::Finished => self.finished += 1,
            State::Pruned => self.pruned += 1,
            State::Collapsed => self.collapsed += 1,
            State::Stalled => self.stalled += 1,
            // Never done (`Status::is_done`): counted as trained elsewhere.
            State::Running | State::Failed | State::Interrupted | State::Waiting => {
                self.skipped += 1;
                return;
            }
        }
        self.already += 1;
    }

    /// A variant the queue did not hand out: done before (by its state) or busy.
    pub fn add_skipped(&mut self, next: &Next) {
        match next {
            Next::Done(state, _) => self.add_done(*state),
            _ => self.skipped += 1,
        }
    }

    /// The most serious outcome wins: failed, then interrupted (not everything ran, or
    /// variants wait at a rung for others), then
    /// collapsed or stalled (a variant that did not train well); finished and pruned variants
    /// are a success.
    pub fn exit(&self) -> Exit {
        if self.failed > 0 {
            Exit::Failed
        } else if self.interrupted + self.not_started + self.waiting > 0 {
            Exit::Interrupted
        } else if self.collapsed + self.stalled > 0 {
            Exit::Collapsed
        } else {
            Exit::Success
        }
    }

    pub fn line(&self, experiment: &str) -> String {
        let pruned = match self.pruned {
            0 => String::new(),
            n => format!(", {n} pruned (stopped at a rung)"),
        };
        let rolled_back = match self.rolled_back {
            0 => String::new(),
            n => format!(" ({n} of them after a rollback changed its settings)"),
        };
        let mut line = format!(
            "experiment {experiment}: {} finished{rolled_back}{pruned}, {} collapsed, {} failed",
            self.finished, self.collapsed, self.failed
        );
        if self.stalled > 0 {
            line += &format!(", {} stalled", self.stalled);
        }
        if self.skipped > 0 {
            line += &format!(", {} skipped (trained by another process)", self.skipped);
        }
        if self.interrupted + self.not_started > 0 {
            line += &format!(
                ", {} interrupted, {} not started ({})",
                self.interrupted,
                self.not_started,
                crate::stop::advice().resume
            );
        }
        if self.waiting > 0 {
            line += &format!(
                ", {} waiting at a rung for variants this command does not train",
                self.waiting
            );
        }
        if self.already > 0 {
            let were = if self.already == 1 { "was" } else { "were" };
            line += &format!(
                "; {} of them {were} done before this command (not trained again)",
                self.already
            );
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_serious_outcome_sets_the_exit_code() {
        let mut t = Tally {
            finished: 2,
            ..Tally::default()
        };
        assert_eq!(t.exit(), Exit::Success);
        t.rolled_back = 1;
        assert_eq!(t.exit(), Exit::Success, "a rescued variant finished");
        assert!(
            t.line("x")
                .contains("2 finished (1 of them after a rollback changed its settings)")
        );
        t.rolled_back = 0;
        t.pruned = 3;
        assert_eq!(
            t.exit(),
            Exit::Success,
            "pruned variants ended as the rule wants"
        );
        assert!(
            t.line("x")
                .contains("2 finished, 3 pruned (stopped at a rung)")
        );
        t.stalled = 1;
        assert_eq!(
            t.exit(),
            Exit::Collapsed,
            "a stalled variant did not train well: a smoke run in CI must fail on it"
        );
        t.stalled = 0;
        t.collapsed = 1;
        assert_eq!(t.exit(), Exit::Collapsed);
        t.not_started = 1;
        assert_eq!(t.exit(), Exit::Interrupted);
        t.interrupted = 1;
        assert_eq!(t.exit(), Exit::Interrupted);
        t.failed = 1;
        assert_eq!(t.exit(), Exit::Failed);
    }

    /// state of a variant done before the command; exit code of a rerun; why.
    type Rerun = (State, Exit, &'static str);

    #[test]
    fn a_rerun_counts_variants_done_before_in_their_state() {
        let rows: &[Rerun] = &[
            (State::Finished, Exit::Success, "nothing left to do"),
            (
                State::Pruned,
                Exit::Success,
                "stopped by the rule: a success",
            ),
            (
                State::Collapsed,
                Exit::Collapsed,
                "a rerun of a sweep with a collapsed variant must not pass a CI loop",
            ),
            (State::Stalled, Exit::Collapsed, "likewise a stalled one"),
        ];
        for &(state, exit, why) in rows {
            let mut t = Tally {
                finished: 1,
                ..Tally::default()
            };
            t.add_skipped(&Next::Done(state, 8));
            assert_eq!(t.exit(), exit, "{why}");
            assert_eq!(t.already, 1, "{why}");
            let line = t.line("x");
            assert!(
                line.contains("; 1 of them was done before this command"),
                "{line}"
            );
            assert!(line.contains(&format!("1 {}", state.word())) || state == State::Finished);
        }
        let mut t = Tally::default();
        t.add_skipped(&Next::Busy(7, "node".into()));
        assert_eq!(
            (t.skipped, t.already),
            (1, 0),
            "busy: trained by another process"
        );
        assert!(
            t.line("x")
                .contains("1 skipped (trained by another process)")
        );
    }
}
