//! Graceful stop: the first SIGINT, SIGTERM or SIGUSR1 (Slurm's warning signal) asks every
//! variant to stop after its current epoch; a second SIGINT ends the process at once (the last
//! checkpoint stays valid, written data-first).

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use signal_hook::flag;

static REQUESTED: AtomicBool = AtomicBool::new(false);
/// Set by SIGUSR1 alone: Slurm's warning before a time limit (or preemption), after which a
/// Slurm task requeues itself; SIGTERM (scancel) must not.
static WARNED: AtomicBool = AtomicBool::new(false);
/// Whether this process says what a stop will do (`install`'s `announce`), and whether it has.
static ANNOUNCES: AtomicBool = AtomicBool::new(false);
static ANNOUNCED: AtomicBool = AtomicBool::new(false);

/// Exit status of a process ended by the second SIGINT (128 + SIGINT, as shells report it).
pub const IMMEDIATE_EXIT: i32 = 130;

/// Installs the handlers. Call once, before training starts. `announce`: say on stderr, as
/// soon as a stop is asked for, what will happen (an epoch can take minutes; the parent of a
/// `--jobs` sweep speaks for its workers).
pub fn install(announce: bool) -> Result<()> {
    // The shutdown must be registered before the flag, so the first SIGINT only arms it.
    flag::register_conditional_shutdown(SIGINT, IMMEDIATE_EXIT, &REQUESTED)
        .context("cannot install the SIGINT handler")?;
    for signal in [SIGINT, SIGTERM, SIGUSR1] {
        flag::register(signal, &REQUESTED).context("cannot install a stop handler")?;
    }
    flag::register(SIGUSR1, &WARNED).context("cannot install the SIGUSR1 handler")?;
    if announce {
        ANNOUNCES.store(true, Ordering::SeqCst);
        std::thread::spawn(|| {
            while !requested() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            announce_now();
        });
    }
    Ok(())
}

/// Says what the requested stop will do, once, where this process announces stops: called by
/// the watcher and by whatever reports the stop itself, so that an epoch shorter than the
/// watcher's poll does not print "stopped after epoch N" before the announcement.
pub fn announce_now() {
    if ANNOUNCES.load(Ordering::SeqCst) && requested() && !ANNOUNCED.swap(true, Ordering::SeqCst) {
        crate::progress::println(advice().announce);
    }
}

/// Whether a graceful stop was asked for (by a signal or `request`).
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Whether the stop came from SIGUSR1 (Slurm's `--signal` warning).
pub fn warned() -> bool {
    WARNED.load(Ordering::SeqCst)
}

/// What to tell the user about a graceful stop: when it is asked for, and how to resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    pub announce: &'static str,
    /// How to resume what the stop left (interrupted or not started).
    pub resume: &'static str,
}

/// The advice for where this process runs: in a Slurm job (`SLURM_JOB_ID`) no Ctrl-C reaches
/// it and the command that started it is not at hand; warned by Slurm (USR1), a task requeues
/// itself.
pub fn advice() -> Advice {
    let slurm = std::env::var_os("SLURM_JOB_ID").is_some_and(|v| !v.is_empty());
    advice_for(slurm, warned())
}

fn advice_for(slurm_job: bool, warned: bool) -> Advice {
    const RESUBMIT: &str = "rerun the `anigan-runner slurm` command that submitted it to resume";
    match (slurm_job, warned) {
        (false, _) => Advice {
            announce: "stop requested: every variant stops after its current epoch, on a \
                       checkpoint (exit 4; the same command resumes it); press Ctrl-C again to \
                       stop at once",
            resume: "rerun the same command to resume",
        },
        (true, true) => Advice {
            announce: "Slurm's warning before the time limit (USR1): every variant stops after \
                       its current epoch, on a checkpoint; then this task requeues itself and \
                       resumes from it",
            resume: "this task requeues itself to resume",
        },
        (true, false) => Advice {
            announce: "stop requested (scancel, or Slurm ending the job): every variant stops \
                       after its current epoch, on a checkpoint, unless Slurm kills the task \
                       first (KillWait after its SIGTERM; the last checkpoint stays valid); \
                       rerun the `anigan-runner slurm` command that submitted it to resume",
            resume: RESUBMIT,
        },
    }
}

/// Asks for a graceful stop from inside the process.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advice_fits_where_the_runner_runs() {
        for (slurm, warned, says, never, why) in [
            (
                false,
                false,
                "press Ctrl-C again",
                "anigan-runner slurm",
                "a terminal",
            ),
            (
                true,
                true,
                "this task requeues itself",
                "Ctrl-C",
                "a Slurm task warned of its time limit requeues",
            ),
            (
                true,
                false,
                "rerun the `anigan-runner slurm` command",
                "Ctrl-C",
                "a Slurm task after scancel: no terminal, no same command at hand",
            ),
        ] {
            let a = advice_for(slurm, warned);
            let text = format!("{} / {}", a.announce, a.resume);
            assert!(
                text.contains(says) && !text.contains(never),
                "{why}: {text}"
            );
            assert!(
                !(slurm && a.resume.contains("same command")),
                "{why}: {text}"
            );
        }
    }
}
