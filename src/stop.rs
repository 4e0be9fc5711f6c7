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
        std::thread::spawn(|| {
            while !requested() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            crate::progress::println(
                "stop requested: every variant stops after its current epoch, on a checkpoint \
                 (exit 4; the same command resumes it); press Ctrl-C again to stop at once",
            );
        });
    }
    Ok(())
}

/// Whether a graceful stop was asked for (by a signal or `request`).
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Whether the stop came from SIGUSR1 (Slurm's `--signal` warning).
pub fn warned() -> bool {
    WARNED.load(Ordering::SeqCst)
}

/// Asks for a graceful stop from inside the process.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}
