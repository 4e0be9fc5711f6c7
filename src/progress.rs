//! Progress on stderr: indicatif bars on a terminal, plain log lines otherwise (CI, Slurm logs):
//! also on a terminal when `CI` is set (a CI runner that gives its job a pseudo-terminal still
//! keeps its log as a file) or `TERM=dumb`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

fn interactive() -> bool {
    let env = |name| std::env::var(name).ok();
    draws_bars(std::io::stderr().is_terminal(), env("CI"), env("TERM"))
}

/// Bars only on a terminal that is no CI job's (`CI` set, as GitHub Actions, GitLab CI,
/// Buildkite and others set it, to anything but `false` or `0`) and not `TERM=dumb`.
fn draws_bars(terminal: bool, ci: Option<String>, term: Option<String>) -> bool {
    let in_ci = ci.is_some_and(|v| !matches!(v.as_str(), "" | "false" | "0"));
    terminal && !in_ci && term.as_deref() != Some("dumb")
}

/// How often a count without a bar (a log) says how far it is.
const LOG_EVERY_SECS: u64 = 30;

/// The epoch bar on screen now (one at a time outside a `--jobs` board), so that a line printed
/// from another thread goes above it: printed under it, the bar's next redraw would erase it.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Prints `line` on stderr, above the epoch bar when one is on screen; from any thread.
pub fn println(line: &str) {
    match SHOWN.lock().ok().and_then(|b| b.clone()) {
        Some(bar) => bar.println(line),
        None => eprintln!("{line}"),
    }
}

/// A count towards a total, advanced from any thread.
pub struct Counter {
    bar: ProgressBar,
    done: AtomicU64,
    total: u64,
    message: String,
    started: Instant,
    /// Without a bar: the second (since `started`) of the last line logged.
    logged_at: AtomicU64,
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
        total,
        message: message.to_string(),
        started: Instant::now(),
        logged_at: AtomicU64::new(0),
    }
}

impl Counter {
    /// Moves to `n` done, unless a later count already arrived (threads report out of order).
    pub fn advance_to(&self, n: u64) {
        let before = self.done.fetch_max(n, Ordering::Relaxed);
        if n > before {
            self.bar.set_position(n);
        }
        if self.bar.is_hidden()
            && let Some(line) = self.log_line(n, self.started.elapsed().as_secs())
        {
            eprintln!("{line}");
        }
    }

    /// Without a bar, a line every `LOG_EVERY_SECS` (`secs` since the start), so that a log
    /// shows a long count moving (and a CI job that kills silent steps leaves it running).
    fn log_line(&self, n: u64, secs: u64) -> Option<String> {
        let last = self.logged_at.load(Ordering::Relaxed);
        let due = secs >= last + LOG_EVERY_SECS;
        (due && self
            .logged_at
            .compare_exchange(last, secs, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok())
        .then(|| format!("{}: {n}/{} after {secs} s", self.message, self.total))
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
        if let Ok(mut shown) = SHOWN.lock() {
            *shown = Some(bar.clone());
        }
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
        if let Ok(mut shown) = SHOWN.lock()
            && shown.as_ref().is_some_and(|b| b.is_finished())
        {
            *shown = None;
        }
    }
}

/// A `--jobs` sweep: one line per worker plus a total bar (indicatif MultiProgress) on a
/// terminal; in a log, every line as it comes, prefixed with its variant's label.
pub struct Board {
    multi: MultiProgress,
    total: ProgressBar,
    variants_done: AtomicU64,
    variants: u64,
}

/// `epochs`: epochs left to train in the whole sweep; `variants`: variants to train.
pub fn board(epochs: u64, variants: u64) -> Board {
    let multi = MultiProgress::new();
    let total = if interactive() {
        let bar = multi.add(ProgressBar::new(epochs));
        bar.set_style(
            ProgressStyle::with_template(
                "total epoch {pos}/{len} [{bar:25}] {msg} ({elapsed}, {eta} left)",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    } else {
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        ProgressBar::hidden()
    };
    let board = Board {
        multi,
        total,
        variants_done: AtomicU64::new(0),
        variants,
    };
    board.show_done();
    board
}

impl Board {
    /// A worker's line, above the total bar.
    pub fn worker(&self, label: &str, done: u64, planned: u64) -> EpochBar {
        let bar = epochs(label, done, planned);
        if bar.bar.is_hidden() {
            return bar;
        }
        EpochBar {
            bar: self.multi.insert_before(&self.total, bar.bar),
            label: bar.label,
        }
    }

    /// A line that must stay visible, printed above the bars.
    pub fn println(&self, line: &str) {
        if self.total.is_hidden() {
            eprintln!("{line}");
        } else {
            self.total.println(line);
        }
    }

    /// Runs `f` (which prints) with the bars hidden, so its lines do not tear them.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi.suspend(f)
    }

    /// One more epoch trained somewhere in the sweep.
    pub fn epoch_done(&self) {
        self.total.inc(1);
    }

    /// One more variant ended (however it ended).
    pub fn variant_done(&self) {
        self.variants_done.fetch_add(1, Ordering::Relaxed);
        self.show_done();
    }

    fn show_done(&self) {
        let done = self.variants_done.load(Ordering::Relaxed);
        self.total
            .set_message(format!("{done}/{} variants", self.variants));
    }

    pub fn finish(&self) {
        self.total.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_only_on_a_terminal_outside_ci_and_dumb_terminals() {
        let s = |v: &str| Some(v.to_string());
        for (terminal, ci, term, bars, why) in [
            (true, None, s("xterm-256color"), true, "a terminal"),
            (false, None, s("xterm"), false, "a file or a pipe"),
            (
                true,
                s("true"),
                s("xterm"),
                false,
                "a CI job's pseudo-terminal",
            ),
            (true, s("1"), None, false, "CI=1"),
            (
                true,
                s("false"),
                s("xterm"),
                true,
                "CI=false says it is none",
            ),
            (true, s("0"), s("xterm"), true, "CI=0 says it is none"),
            (true, s(""), s("xterm"), true, "an empty CI"),
            (true, None, s("dumb"), false, "TERM=dumb"),
        ] {
            assert_eq!(draws_bars(terminal, ci, term), bars, "{why}");
        }
    }

    #[test]
    fn a_count_in_a_log_says_how_far_it_is_every_30_seconds() {
        let c = Counter {
            bar: ProgressBar::hidden(),
            done: AtomicU64::new(0),
            total: 40,
            message: "training".into(),
            started: Instant::now(),
            logged_at: AtomicU64::new(0),
        };
        assert_eq!(c.log_line(1, 5), None, "too soon");
        assert_eq!(
            c.log_line(9, 31).as_deref(),
            Some("training: 9/40 after 31 s")
        );
        assert_eq!(c.log_line(10, 45), None, "15 s after the last line");
        assert_eq!(
            c.log_line(19, 61).as_deref(),
            Some("training: 19/40 after 61 s")
        );
    }
}
