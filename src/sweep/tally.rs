//! How a sweep went, and its exit code.

use crate::exit::Exit;

#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub finished: usize,
    /// Stopped at a rung by `[prune]`: a success, like finished.
    pub pruned: usize,
    /// Already done, or being trained by another process.
    pub skipped: usize,
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
}

impl Tally {
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
        let mut line = format!(
            "experiment {experiment}: {} finished{pruned}, {} collapsed, {} failed, {} skipped (already done or trained elsewhere)",
            self.finished, self.collapsed, self.failed, self.skipped
        );
        if self.stalled > 0 {
            line += &format!(", {} stalled", self.stalled);
        }
        if self.interrupted + self.not_started > 0 {
            line += &format!(
                ", {} interrupted, {} not started (rerun the same command to resume)",
                self.interrupted, self.not_started
            );
        }
        if self.waiting > 0 {
            line += &format!(
                ", {} waiting at a rung for variants this command does not train",
                self.waiting
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
}
