//! Progress on stderr: indicatif bars on a terminal, plain log lines otherwise (CI, Slurm logs).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

fn interactive() -> bool {
    std::io::stderr().is_terminal()
}

/// A count towards a total, advanced from any thread.
pub struct Counter {
    bar: ProgressBar,
    done: AtomicU64,
    message: String,
    started: Instant,
}

pub fn counter(total: u64, message: &str) -> Counter {
    let bar = if interactive() {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta} left)")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(message.to_string());
        bar
    } else {
        eprintln!("{message} ...");
        ProgressBar::hidden()
    };
    Counter {
        bar,
        done: AtomicU64::new(0),
        message: message.to_string(),
        started: Instant::now(),
    }
}

impl Counter {
    /// Moves to `n` done, unless a later count already arrived (threads report out of order).
    pub fn advance_to(&self, n: u64) {
        let before = self.done.fetch_max(n, Ordering::Relaxed);
        if n > before {
            self.bar.set_position(n);
        }
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
        eprintln!(
            "{}: done in {:.1} s",
            self.message,
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// One variant's epochs: a bar with the latest figures, or a log line per epoch.
pub struct EpochBar {
    bar: ProgressBar,
    label: String,
}

pub fn epochs(label: &str, done: u64, total: u64) -> EpochBar {
    let bar = if interactive() {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{prefix} epoch {pos}/{len} [{bar:25}] {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        bar.set_position(done);
        bar
    } else {
        ProgressBar::hidden()
    };
    EpochBar {
        bar,
        label: label.to_string(),
    }
}

impl EpochBar {
    /// Reports epoch `epoch` of `total` finished with a one-line summary of its figures.
    pub fn epoch(&self, epoch: u64, total: u64, summary: &str) {
        if self.bar.is_hidden() {
            eprintln!("{} epoch {epoch}/{total} {summary}", self.label);
        } else {
            self.bar.set_position(epoch);
            self.bar.set_message(summary.to_string());
        }
    }

    /// A message that must stay visible (rollbacks, warnings), printed above the bar.
    pub fn note(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{} {line}", self.label);
        } else {
            self.bar.println(format!("{} {line}", self.label));
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
